#pragma once
// The one way the streaming decoders (EVM eth_getLogs, Bitcoin getblock,
// Solana getBlock) run a Boost.JSON SAX parser over a whole answer body.
// Include after <boost/json/basic_parser_impl.hpp> (the decoder's own unit
// instantiates the parser; keep Boost.JSON's parser out of other headers).
#include <boost/json/string_view.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace depositd::chain {

// What every streaming decoder's SAX handler has in common: no size limits of
// its own (the parser's max_depth and the client's max_response_size bound an
// answer), document boundaries and comments ignored.
struct SaxHandlerBase {
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }
};

// Feeds `body` to `p` as one complete document. The handler's own error (a
// field it refused, kept in its `error` member) wins; then invalid JSON; then
// anything but whitespace after the document. `what` names the answer in the
// message ("eth_getLogs: invalid JSON: ..."); `syntax_error`, when given, is
// set for the last two.
template <class Parser>
Status run_sax(Parser& p, std::string_view body, std::string_view what, bool* syntax_error = nullptr) {
    boost::system::error_code ec;
    const std::size_t n = p.write_some(false, body.data(), body.size(), ec);
    if (p.handler().error) return *p.handler().error;
    if (ec) {
        if (syntax_error) *syntax_error = true;
        return make_error(Errc::malformed, std::string(what) + ": invalid JSON: " + ec.message());
    }
    for (std::size_t i = n; i < body.size(); ++i)
        if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t') {
            if (syntax_error) *syntax_error = true;
            return make_error(Errc::malformed, std::string(what) + ": trailing data after the JSON document");
        }
    return {};
}

}  // namespace depositd::chain
