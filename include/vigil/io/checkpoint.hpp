// Module weights to and from safetensors files, keyed by dotted parameter path ("0.weight", "encoder.fc.bias"):
// the same names PyTorch's state_dict uses for the same architecture, so weights move both ways.
#pragma once

#include <vigil/io/safetensors.hpp>
#include <vigil/nn/module.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace vigil::io {

// Writes every parameter of `module` under its dotted path, in named_parameters() order, then every persistent
// buffer (named_persistent_buffers()), with `metadata`
// (vigil's version and the training step are the usual entries), atomically.
void save_module(const std::string& path, const nn::Module& module, const Metadata& metadata = {});

// The keys that did not match, as PyTorch's load_state_dict reports them.
struct LoadReport {
  std::vector<std::string> missing;     // in the module, absent from the file (left unchanged)
  std::vector<std::string> unexpected;  // in the file, not in the module (ignored)
};

// Copies the file's tensors into the parameters and persistent buffers of `module` with the same path. Every
// matching name must agree in shape and dtype (Error naming the file, the path and both shapes or dtypes). With
// `strict`, a missing or an unexpected key is an Error listing them all; without, they are returned in the
// report. `only`, a path pattern (nn::path_matches: "encoder", "encoder.*", "*.weight"), restricts the load to the
// module entries and file entries it matches (partial loading for transfer learning); empty means everything.
// Everything is checked before anything is copied, so a load that throws leaves the module as it was.
LoadReport load_module(const std::string& path, nn::Module& module, bool strict = true, std::string_view only = {});
// The same from tensors already read; `path` names their source in errors.
LoadReport load_module_state(const NamedTensors& tensors, nn::Module& module, const std::string& path,
                             bool strict = true, std::string_view only = {});

}  // namespace vigil::io
