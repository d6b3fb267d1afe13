#pragma once
// Reads the zones of an import: one master file, or every *.zone file of a directory
// (in name order). Used by `dnszone import` and `centrald --zones`.

#include <string>
#include <vector>

#include "dnswire/error.hpp"
#include "dnswire/zonefile.hpp"

namespace centrald {

// All the zones or the first error, as "FILE:LINE: reason". Two files holding the same
// zone are an error. A directory without *.zone files gives an empty list.
dnswire::Result<std::vector<dnswire::Zone>> loadZonePath(const std::string& path);

}  // namespace centrald
