// Overloaded{lambdas...}: one visitor out of several lambdas, for std::visit over the event
// variants in shared/events.hpp. Visiting (rather than a chain of std::get_if) makes a new
// event type a compile error at every dispatch site until it is handled.
#pragma once

namespace deskpod {

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace deskpod
