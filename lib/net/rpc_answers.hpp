#pragma once
// How net/jsonrpc.cpp judges an answer body (internal to lib/net): the
// classification of node errors is public in net/jsonrpc.hpp.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/json.hpp"
#include "core/result.hpp"

namespace depositd::net::detail {

// A single answer: its result, or the node's error classified; an answer to
// another id is Errc::malformed.
Result<json::value> interpret_single(json::value&& v, std::int64_t id);
// A batch answer: the results as an array in request order (ids first_id ..
// first_id + count - 1, each exactly once), or the first element's error.
Result<json::value> interpret_batch(json::value&& v, std::int64_t first_id, std::size_t count);
// call_raw: ok when the body's top level answers `id` with a result, read
// only as far as that (the result itself is left to its decoder); a JSON-RPC
// error (small) goes through the DOM path and is returned classified.
Status check_raw_answer(const std::string& body, std::int64_t id, std::size_t max_bytes);

}  // namespace depositd::net::detail
