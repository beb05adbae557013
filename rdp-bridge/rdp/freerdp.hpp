// The one place rdp-bridge includes FreeRDP and WinPR. Their headers are C written for C
// compilers (pedantic-unclean under -std=c++20), so the diagnostics are relaxed here only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <freerdp/channels/channels.h>
#include <freerdp/channels/wtsvc.h>
#include <freerdp/codec/color.h>
#include <freerdp/codec/interleaved.h>
#include <freerdp/codec/nsc.h>
#include <freerdp/codec/planar.h>
#include <freerdp/codec/rfx.h>
#include <freerdp/error.h>
#include <freerdp/freerdp.h>
#include <freerdp/input.h>
#include <freerdp/peer.h>
#include <freerdp/pointer.h>
#include <freerdp/settings.h>
#include <freerdp/update.h>
#include <winpr/crypto.h>
#include <winpr/input.h>
#include <winpr/ntlm.h>
#include <winpr/ssl.h>
#include <winpr/stream.h>
#include <winpr/synch.h>
#include <winpr/wtsapi.h>

#include <openssl/err.h>
#pragma GCC diagnostic pop
