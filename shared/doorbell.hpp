// An eventfd used as a doorbell: the producer rings after pushing into a lock-free queue, the
// consumer's event loop (wl_event_loop or asio) wakes on the fd and drains the queue.
// Nothing ever polls: an idle desktop has no ringing doorbells.
#pragma once

namespace deskpod {

class Doorbell {
  public:
    Doorbell();
    ~Doorbell();
    Doorbell(const Doorbell&) = delete;
    Doorbell& operator=(const Doorbell&) = delete;

    // Safe from any thread. Coalesces: many rings before a drain wake the consumer once.
    void ring();
    // Resets the counter; call before draining the queue so no ring is lost.
    void drain();
    int fd() const { return fd_; }

  private:
    int fd_ = -1;
};

}  // namespace deskpod
