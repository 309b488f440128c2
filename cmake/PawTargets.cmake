# Common compile settings for every paw target (no include directories: see the views below).
add_library(paw_options INTERFACE)
target_compile_options(paw_options INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)

# Every header of the tree, for the targets that may see all of it (tests, tools, benchmarks,
# fuzz targets): the white-box view.
add_library(paw_all_headers INTERFACE)
target_include_directories(paw_all_headers INTERFACE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)

# Include views. A layer's code compiles against a folder of links to the headers it may
# use, so that an include of anything else fails the build ("file not found"):
#   - the public headers (include/paw/<d>/*.hpp) of the layer and of every layer below it
#     that it declares (directly or through them);
#   - its own private headers, as "<layer>/x.hpp" (src/<layer>/); no other layer's;
#   - the public API (PAW_PUBLIC_API and what they include) once the api layer is among them.
# A target can be given a narrower view (paw_layer(... VIEW entries), used by the server).
set(PAW_VIEWS ${PROJECT_BINARY_DIR}/include-views)
# The stable C++ API (docs/API.md); what these include is part of the view that holds them.
set(PAW_PUBLIC_API paw/paw.hpp paw/interpreter.hpp paw/run.hpp paw/batch.hpp paw/compile.hpp paw/version.hpp)
# A new header re-runs the configure step, so that the views link it.
file(GLOB_RECURSE _paw_all_public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/paw/*.hpp)

# _paw_header_closure(OUT entries...): the headers (relative to include/, "paw/...") reachable
# from `entries` through #include "paw/..." lines.
function(_paw_header_closure out)
  set(todo ${ARGN})
  set(seen "")
  while(todo)
    list(POP_FRONT todo h)
    if(h IN_LIST seen OR NOT EXISTS ${PROJECT_SOURCE_DIR}/include/${h})
      continue()
    endif()
    list(APPEND seen ${h})
    file(STRINGS ${PROJECT_SOURCE_DIR}/include/${h} _lines REGEX "^#include \"paw/")
    foreach(_l IN LISTS _lines)
      string(REGEX REPLACE "^#include \"(paw/[^\"]+)\".*" "\\1" _inc "${_l}")
      list(APPEND todo ${_inc})
    endforeach()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# paw_make_view(NAME OWN entries...): writes ${PAW_VIEWS}/NAME with links to the closure of
# `entries` ("paw/<layer>/" = every header of that layer; "paw/x.hpp" = one header) and, when
# OWN is not "-", src/OWN as "OWN/".
function(paw_make_view name own)
  set(_dir ${PAW_VIEWS}/${name})
  file(REMOVE_RECURSE ${_dir})
  file(MAKE_DIRECTORY ${_dir})
  set(_entries "")
  foreach(_e IN LISTS ARGN)
    if(_e MATCHES "/$")
      file(GLOB _hs RELATIVE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/include/${_e}*.hpp)
      list(APPEND _entries ${_hs})
    else()
      list(APPEND _entries ${_e})
    endif()
  endforeach()
  _paw_header_closure(_files ${_entries})
  foreach(_f IN LISTS _files)
    get_filename_component(_d ${_dir}/${_f} DIRECTORY)
    file(MAKE_DIRECTORY ${_d})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/include/${_f} ${_dir}/${_f} SYMBOLIC)
  endforeach()
  if(NOT own STREQUAL "-" AND EXISTS ${PROJECT_SOURCE_DIR}/src/${own})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${own} ${_dir}/${own} SYMBOLIC)
  endif()
endfunction()

# The layers below `name` it may use: its declared paw_<layer> dependencies and theirs.
function(_paw_layer_closure out name)
  get_property(_deps GLOBAL PROPERTY PAW_LAYER_DEPS_${name})
  set(_all ${name})
  foreach(_d IN LISTS _deps)
    get_property(_sub GLOBAL PROPERTY PAW_LAYER_CLOSURE_${_d})
    list(APPEND _all ${_d} ${_sub})
  endforeach()
  list(REMOVE_DUPLICATES _all)
  set(${out} ${_all} PARENT_SCOPE)
endfunction()

# _paw_record_layer(OUT NAME [deps...]): records the layer's paw_<layer> dependencies and
# returns its closure (the layer and every layer below it that it may use).
function(_paw_record_layer out name)
  set(_deps "")
  foreach(_a IN LISTS ARGN)
    if(_a MATCHES "^paw_(.+)$")
      list(APPEND _deps ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY PAW_LAYER_DEPS_${name} ${_deps})
  _paw_layer_closure(_closure ${name})
  set_property(GLOBAL PROPERTY PAW_LAYER_CLOSURE_${name} ${_closure})
  set(${out} ${_closure} PARENT_SCOPE)
endfunction()

# paw_layer_view(NAME [deps...] [VIEW entries...]): records the layer's dependencies and makes
# its view: by default the headers of its closure (and the stable API once api is in it);
# with VIEW, the closure of `entries` plus the layer's own headers instead.
function(paw_layer_view name)
  cmake_parse_arguments(PARSE_ARGV 1 _lv "" "" "VIEW")
  _paw_record_layer(_closure ${name} ${_lv_UNPARSED_ARGUMENTS})
  if(_lv_VIEW)
    paw_make_view(${name} ${name} paw/${name}/ ${_lv_VIEW})
    return()
  endif()
  set(_entries "")
  foreach(_l IN LISTS _closure)
    list(APPEND _entries paw/${_l}/)
  endforeach()
  if("api" IN_LIST _closure)
    list(APPEND _entries ${PAW_PUBLIC_API})
  endif()
  paw_make_view(${name} ${name} ${_entries})
endfunction()

# paw_view_of(TARGET VIEW): compile TARGET against ${PAW_VIEWS}/VIEW.
function(paw_view_of target view)
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${PAW_VIEWS}/${view})
  else()
    target_include_directories(${target} PRIVATE ${PAW_VIEWS}/${view})
  endif()
endfunction()
if(PAW_SANITIZE)
  list(JOIN PAW_SANITIZE "," _paw_san)
  target_compile_options(paw_options INTERFACE -fsanitize=${_paw_san} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(paw_options INTERFACE -fsanitize=${_paw_san})
endif()

# paw_layer(NAME DEPS... [VIEW entries...]) builds src/NAME/*.cpp into the static library
# paw_NAME. Layers depend downward only (docs/ARCHITECTURE.md); DEPS lists the layers below
# (and external libraries). VIEW replaces the default include view by the closure of
# `entries` (see paw_make_view) plus the layer's own headers.
function(paw_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 _pl "" "" "VIEW")
  if(_pl_VIEW)
    paw_layer_view(${name} ${_pl_UNPARSED_ARGUMENTS} VIEW ${_pl_VIEW})
  else()
    paw_layer_view(${name} ${_pl_UNPARSED_ARGUMENTS})
  endif()
  file(GLOB _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  # SIMD kernels live in files named *_avx2.cpp / *_avx512.cpp and are compiled for that ISA
  # only; the dispatcher picks them at run time from CPUID, so the binary runs anywhere.
  foreach(_src ${_srcs})
    if(_src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${_src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    elseif(_src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${_src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512bf16;-mavx2;-mfma;-mf16c")
    endif()
  endforeach()
  if(_srcs)
    add_library(paw_${name} STATIC ${_srcs})
    target_link_libraries(paw_${name} PUBLIC paw_options ${_pl_UNPARSED_ARGUMENTS})
    paw_view_of(paw_${name} ${name})
  else()
    # A layer with no sources yet is a header-only interface target.
    add_library(paw_${name} INTERFACE)
    target_link_libraries(paw_${name} INTERFACE paw_options ${_pl_UNPARSED_ARGUMENTS})
  endif()
endfunction()

# paw_test_dir(LAYER LIBS...) builds tests/LAYER/*.cpp into test_LAYER, registered with ctest.
function(paw_test_dir layer)
  file(GLOB _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${layer}/*.cpp)
  if(NOT _srcs)
    return()
  endif()
  add_executable(test_${layer} ${_srcs} ${PROJECT_SOURCE_DIR}/tests/common/test_env.cpp)
  target_link_libraries(test_${layer} PRIVATE ${ARGN} GTest::gtest GTest::gtest_main GTest::gmock)
  target_link_libraries(test_${layer} PRIVATE paw_all_headers)
  target_include_directories(test_${layer} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(test_${layer} PRIVATE
    PAW_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PAW_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(test_${layer} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS ${layer} ENVIRONMENT "PAW_SOURCE_DIR=${PROJECT_SOURCE_DIR};PAW_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

if(PAW_FUZZ)
  # Instrument the libraries for coverage; the fuzz targets link libFuzzer's main.
  target_compile_options(paw_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(paw_options INTERFACE -fsanitize=address,undefined)
endif()
