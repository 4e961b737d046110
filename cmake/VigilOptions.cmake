# Compiler flags shared by every vigil target, attached through the INTERFACE target vigil_options.
add_library(vigil_options INTERFACE)
target_compile_options(vigil_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
# vigil never reads errno: a domain error shows as NaN, as IEEE 754 has it. Without errno, sqrt and friends compile
# to their instructions instead of a guarded libm call, which is what lets loops using them vectorise (the fused
# optimiser updates run 4x faster). Results do not change: this is not -ffast-math.
target_compile_options(vigil_options INTERFACE -fno-math-errno)
if(VIGIL_WERROR)
  target_compile_options(vigil_options INTERFACE -Werror)
endif()
if(VIGIL_NATIVE)
  target_compile_options(vigil_options INTERFACE -march=native)
else()
  # x86-64-v2 runs on any x86-64 machine of the last decade; oneDNN dispatches its own kernels at run time, so
  # the hot GEMM and convolution paths reach AVX-512 either way.
  target_compile_options(vigil_options INTERFACE -march=x86-64-v2)
endif()
if(VIGIL_SANITIZE)
  target_compile_options(vigil_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=undefined)
  target_link_options(vigil_options INTERFACE -fsanitize=address,undefined)
endif()

# vigil_module(NAME DEPENDS ...): a static library from src/NAME/*.cpp with public headers in include/.
function(vigil_module name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(vigil_${name} STATIC ${sources})
  # Only this module's own headers and those of the modules below it are reachable: each module's include
  # directory is its own folder, exposed as <vigil/NAME/...> through a per-module staging root.
  set(stage ${PROJECT_BINARY_DIR}/include-stage/${name})
  file(MAKE_DIRECTORY ${stage}/vigil)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/include/vigil/${name} ${stage}/vigil/${name} SYMBOLIC)
  target_include_directories(vigil_${name} PUBLIC $<BUILD_INTERFACE:${stage}>)
  target_link_libraries(vigil_${name} PUBLIC vigil_options ${ARG_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS})
  add_library(vigil::${name} ALIAS vigil_${name})
endfunction()
