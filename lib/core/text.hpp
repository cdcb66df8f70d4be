#pragma once
// Text that came from outside (a node's error message, an HTTP body quoted in
// an error) made safe for an Error message and the log: capped, and every
// byte that could break a log line or a terminal shown as a visible escape.
#include <cstddef>
#include <string>
#include <string_view>

namespace depositd {

// At most `max_chars` characters of `text` (UTF-8 code points), then
// "...(+N bytes)" when cut. Escaped: newline \n, CR \r, tab \t, backslash \\,
// other C0 controls, DEL and invalid UTF-8 bytes as \xHH (an ANSI escape
// sequence becomes the visible text "\x1b[31m"), C1 controls and Unicode
// bidirectional / zero-width format characters as \u{XXXX}.
std::string quote_untrusted(std::string_view text, std::size_t max_chars = 200);

// RFC 3986 percent-encoding of a URL component (a query value, a path
// segment, an otpauth label): everything but A-Z a-z 0-9 - _ . ~ as %XX.
std::string percent_encode(std::string_view text);

}  // namespace depositd
