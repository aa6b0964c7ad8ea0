#pragma once
// JSON string escaping for everything Baton writes by hand (access log, mock responses).
#include <string>
#include <string_view>

namespace baton {

// Appends `s` JSON-escaped, without quotes. Invalid UTF-8 bytes become U+FFFD, so the output
// is always valid JSON whatever a client sent.
void json_escape_append(std::string& out, std::string_view s);

}  // namespace baton
