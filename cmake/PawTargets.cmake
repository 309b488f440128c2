# Common compile settings for every paw target.
add_library(paw_options INTERFACE)
target_compile_options(paw_options INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
target_include_directories(paw_options INTERFACE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
if(PAW_SANITIZE)
  list(JOIN PAW_SANITIZE "," _paw_san)
  target_compile_options(paw_options INTERFACE -fsanitize=${_paw_san} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(paw_options INTERFACE -fsanitize=${_paw_san})
endif()

# paw_layer(NAME DEPS...) builds src/NAME/*.cpp into the static library paw_NAME.
# Layers depend downward only (docs/ARCHITECTURE.md); DEPS lists the layers below.
function(paw_layer name)
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
    target_link_libraries(paw_${name} PUBLIC paw_options ${ARGN})
  else()
    # A layer with no sources yet is a header-only interface target.
    add_library(paw_${name} INTERFACE)
    target_link_libraries(paw_${name} INTERFACE paw_options ${ARGN})
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
