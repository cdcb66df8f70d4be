#pragma once
// A QR code as inline SVG, encoded by libqrencode (error correction M,
// 8-bit mode, the smallest version that fits) with the 4-module quiet zone.
#include <string>
#include <string_view>

namespace depositd::api {

// Empty when the text cannot be encoded (too long for any QR version).
std::string qr_svg(std::string_view text, const std::string& label);

}  // namespace depositd::api
