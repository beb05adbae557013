#include <algorithm>
#include <stdexcept>
#include <vector>

#include "compositor/backend.hpp"

namespace deskpod::compositor {
namespace {

// wlroots' headless output fires `frame` from a timer at its refresh rate forever, even when
// nothing changes. deskpod promises an idle desktop has no timers, so the output is given an
// absurdly low refresh (its own timer then fires every ~17 minutes) and frames are paced here
// instead: one `frame` event a frame interval after each committed buffer, and none otherwise.
class HeadlessBackend final : public Backend {
  public:
    explicit HeadlessBackend(wl_display* display)
        : display_(display), backend_(wlr_headless_backend_create(display)) {
        if (!backend_)
            throw std::runtime_error("cannot create the headless backend");
    }
    ~HeadlessBackend() override {
        pacing_.reset();
        wlr_backend_destroy(backend_);
    }

    const char* name() const override { return "headless"; }
    wlr_backend* handle() const override { return backend_; }

    void create_output(int32_t width, int32_t height) override {
        if (!wlr_headless_add_output(backend_, unsigned(width), unsigned(height))) {
            throw std::runtime_error("cannot create the headless output");
        }
    }

    int32_t refresh_mhz() const override { return 1; }

    void frame_committed(wlr_output* output) override {
        if (std::find(paced_.begin(), paced_.end(), output) == paced_.end())
            paced_.push_back(output);
        if (!pacing_) {
            pacing_ = wl::EventSource(wl_event_loop_add_timer(wl_display_get_event_loop(display_),
                                                              &HeadlessBackend::on_pace, this));
        }
        // Armed by the first commit of an interval: a busy output must not starve the others.
        if (paced_.size() == 1)
            wl_event_source_timer_update(pacing_.get(), kFrameIntervalMs);
    }

    void output_removed(wlr_output* output) override {
        paced_.erase(std::remove(paced_.begin(), paced_.end(), output), paced_.end());
    }

  private:
    static constexpr int kFrameIntervalMs = 16;

    static int on_pace(void* data) {
        auto* self = static_cast<HeadlessBackend*>(data);
        // Outputs committing within one interval share the timer (one per monitor at most).
        std::vector<wlr_output*> due;
        due.swap(self->paced_);
        for (wlr_output* output : due)
            wlr_output_send_frame(output);
        return 0;
    }

    wl_display* display_;
    wlr_backend* backend_;
    wl::EventSource pacing_;
    std::vector<wlr_output*> paced_;  // committed a frame; owed a `frame` event
};

}  // namespace

std::unique_ptr<Backend> create_headless_backend(wl_display* display) {
    return std::make_unique<HeadlessBackend>(display);
}

}  // namespace deskpod::compositor
