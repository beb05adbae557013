// guac::User's clipboard: text only, both ways. The client's text arrives as a `clipboard`
// stream of `blob`s and is offered to the broker; the desktop's goes out the same way.
#include "rdp-bridge/guac/user.hpp"

#include <algorithm>

#include "rdp-bridge/guac/codecs.hpp"

namespace deskpod::guac {

namespace {
const std::string kText = "text/plain;charset=utf-8";
constexpr std::string_view kClipboardStream = "1000";  // apart from the image streams
}  // namespace

void User::handle_clipboard(const Instruction& in) {
    if (!host_.clipboard || in.args.empty())
        return;
    if (in.opcode == "clipboard") {
        // clipboard,<stream>,<mimetype>: only text is taken; other streams are ignored.
        if (in.args.size() >= 2 && in.args[1].starts_with("text/")) {
            incoming_stream_ = in.args[0];
            incoming_text_.clear();
            incoming_too_large_ = false;
        }
        return;
    }
    if (in.args[0] != incoming_stream_)
        return;
    if (in.opcode == "blob" && in.args.size() >= 2) {
        if (!incoming_too_large_ && !base64_decode(in.args[1], incoming_text_)) {
            fail(Status::client_bad_request, "Malformed clipboard data.");
            return;
        }
        if (incoming_text_.size() > host_.clipboard->limit()) {
            incoming_too_large_ = true;
            incoming_text_.clear();
        }
        send(instruction("ack", in.args[0], "OK", 0));
        return;
    }
    // end
    incoming_stream_.clear();
    if (incoming_too_large_) {
        log_.warn("clipboard from the client refused: larger than --clipboard-limit ({} bytes)",
                  host_.clipboard->limit());
        metrics().clipboard_refused.add();
        return;
    }
    client_text_ = std::move(incoming_text_);
    incoming_text_.clear();
    host_.clipboard->offer(this, {kText});
}

void User::on_paste_request(uint64_t transfer_id, const std::string&) {
    host_.clipboard->answer_paste(transfer_id, std::make_shared<const std::vector<uint8_t>>(
                                                   client_text_.begin(), client_text_.end()));
}

void User::on_clipboard_offer(const std::vector<std::string>& mime_types) {
    bool text = false;
    for (const auto& m : mime_types)
        for (const auto& t : ClipboardBroker::kTextMimeTypes)
            text = text || m == t;
    if (!text || !host_.clipboard)
        return;
    host_.clipboard->read(this, kText, [this](const SelectionDataEvent& data) {
        if (stopped_ || !data.ok || !data.data)
            return;
        offer_clipboard_text(data.data);
    });
}

void User::offer_clipboard_text(std::shared_ptr<const std::vector<uint8_t>> text) {
    // Only the latest copy matters: one not started yet is replaced, not queued behind.
    if (clipboard_next_)
        metrics().clipboard_coalesced.add();
    clipboard_next_ = std::move(text);
    pump_clipboard();
}

void User::pump_clipboard() {
    // Base64 turns kChunk bytes into 8064 characters, within guacd's blob size.
    constexpr size_t kChunk = 6048;
    while (!stopped_) {
        if (!clipboard_out_) {
            if (!clipboard_next_)
                return;
            clipboard_out_ = std::move(clipboard_next_);
            clipboard_sent_ = 0;
            send(instruction("clipboard", kClipboardStream, "text/plain"));
        }
        const std::vector<uint8_t>& text = *clipboard_out_;
        while (clipboard_sent_ < text.size()) {
            if (transport_.backlog() >= kClipboardBacklog || stopped_)
                return;  // on_drained() resumes
            const size_t n = std::min(kChunk, text.size() - clipboard_sent_);
            send(instruction("blob", kClipboardStream,
                             base64_encode(text.data() + clipboard_sent_, n)));
            clipboard_sent_ += n;
        }
        send(instruction("end", kClipboardStream));
        clipboard_out_.reset();
    }
}

}  // namespace deskpod::guac
