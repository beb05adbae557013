#include "shared/doorbell.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace deskpod {

Doorbell::Doorbell() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) {
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    }
}

Doorbell::~Doorbell() {
    if (fd_ >= 0)
        close(fd_);
}

void Doorbell::ring() {
    const uint64_t one = 1;
    // EAGAIN means the counter is saturated, i.e. the consumer is already due to wake.
    [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof(one));
}

void Doorbell::drain() {
    uint64_t value = 0;
    [[maybe_unused]] ssize_t n = read(fd_, &value, sizeof(value));
}

}  // namespace deskpod
