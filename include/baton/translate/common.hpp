#pragma once
// Shared vocabulary of the translation layer (baton::translate): pure functions and small state
// machines that turn one wire format into another. No I/O, no credentials, no logging.
//
// Failures are values: Result<T> holds either T or a baton::Error whose `param` is the JSON path
// of the offending field in the *input* document (e.g. "messages[3].tool_calls[0].function.
// arguments"). Request translation errors use Errc::invalid_request (a 400 for the client);
// malformed upstream responses use Errc::upstream_protocol.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "baton/core/error.hpp"

namespace baton::translate {

// Every document is an ordered_json: object keys keep their order (tool JSON schemas and tool
// arguments are forwarded in the client's order; models can be sensitive to property order).
// A nlohmann::json converts implicitly, but its keys are already sorted by then.
using Json = nlohmann::ordered_json;

// A value or a baton::Error. (Not boost::system::result: nlohmann::json converts implicitly to
// almost anything, which disables that type's converting constructors.)
template <class T>
class Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(baton::Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& operator*() { return std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    // Precondition: !has_value().
    const baton::Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, baton::Error> v_;
};

// A translated request body plus the input fields that had no equivalent and were left out
// (JSON paths such as "seed" or "tools[0].function.strict"), for a warning header or a debug log.
struct Translated {
    Json body;
    std::vector<std::string> dropped;
};

// Identity of the response or stream produced by a translator. Empty strings / 0 mean "take it
// from the upstream document" (its id / model); `created` is unix seconds and is always used as
// given (the caller owns the clock, so translation stays deterministic).
struct ResponseMeta {
    std::string id;
    std::string model;
    int64_t created = 0;
};

}  // namespace baton::translate
