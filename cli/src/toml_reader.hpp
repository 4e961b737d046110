// The one way vigil reads TOML (run configs and search spaces). Include it only from a source file that
// cli/CMakeLists.txt compiles with toml++ set up as vigil needs it (header-only, NDEBUG).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace vigil::cli {

// `text` (named `name` in messages) as a TOML table. Non-ASCII bytes are refused first (Debian's toml++ 3.3.0
// misbehaves on some non-ASCII input), naming the file, line and column; toml++'s parse errors become one
// UsageError line ("cfg.toml line 3 column 9: malformed TOML: ...").
toml::table parse_toml(std::string_view text, const std::string& name);

}  // namespace vigil::cli
