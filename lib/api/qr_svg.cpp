#include "api/qr_svg.hpp"

#include <qrencode.h>

#include <memory>

#include "api/route_util.hpp"

namespace depositd::api {

std::string qr_svg(std::string_view text, const std::string& label) {
    const std::string input(text);  // libqrencode wants a NUL-terminated string
    std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
        QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!qr) return {};
    const int width = qr->width;
    constexpr int quiet = 4;
    const int size = width + 2 * quiet;
    std::string path;
    path.reserve(static_cast<std::size_t>(width * width) * 4);
    for (int y = 0; y < width; ++y) {
        int x = 0;
        while (x < width) {
            if (!(qr->data[y * width + x] & 1)) {
                ++x;
                continue;
            }
            int run = 1;
            while (x + run < width && (qr->data[y * width + x + run] & 1)) ++run;
            path += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h" + std::to_string(run) +
                    "v1h-" + std::to_string(run) + "z";
            x += run;
        }
    }
    const std::string n = std::to_string(size);
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + n + " " + n +
           "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"" + util::html_escape(label) +
           "\" data-qr=\"" + util::html_escape(text) + "\"><rect width=\"" + n + "\" height=\"" + n +
           "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace depositd::api
