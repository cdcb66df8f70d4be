#include "core/result.hpp"

namespace depositd {

const char* to_string(Errc code) {
    switch (code) {
        case Errc::invalid_input: return "invalid input";
        case Errc::malformed: return "malformed response";
        case Errc::not_found: return "not found";
        case Errc::conflict: return "conflict";
        case Errc::transport: return "transport error";
        case Errc::http_status: return "HTTP error";
        case Errc::rpc_error: return "RPC error";
        case Errc::range_too_large: return "range too large";
        case Errc::rate_limited: return "rate limited";
        case Errc::io: return "I/O error";
        case Errc::unavailable: return "unavailable";
        case Errc::internal: return "internal error";
    }
    return "error";
}

}  // namespace depositd
