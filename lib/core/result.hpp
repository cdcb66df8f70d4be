#pragma once
// Result<T>: the value of an operation that can fail in an expected way
// (node down, malformed answer, bad input). Exceptions are kept for fatal
// start-up errors only.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace depositd {

enum class Errc {
    invalid_input,   // bad data from a user or a file
    malformed,       // a peer answered something we cannot decode
    not_found,
    conflict,
    transport,       // connect/read/write failed, timeout
    http_status,     // peer answered with a non-success HTTP status
    rpc_error,       // JSON-RPC error object
    range_too_large, // provider refused the block range
    rate_limited,
    io,              // disk / database
    unavailable,
    internal,
};

const char* to_string(Errc code);

struct Error {
    Errc code = Errc::internal;
    std::string message;
    // Optional hints a caller may act on (HTTP status, Retry-After seconds,
    // provider-suggested block range end).
    int status = 0;
    long long retry_after_ms = -1;
    long long suggested_to = -1;

    std::string describe() const { return std::string(to_string(code)) + ": " + message; }
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
public:
    // Default: an error. Asio's co_spawn needs a default-constructible result.
    Result() : v_(std::in_place_index<1>, Error{Errc::internal, "no result"}) {}
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}
    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const { assert(!ok_); return error_; }

private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace depositd
