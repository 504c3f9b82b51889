# Compile settings shared by every Tenure target: warnings as errors for our code, optional
# sanitizers, precompiled headers, the linker, and which tests a build tree holds.
# Aggregates are initialised with only the fields that matter (designated-initialiser style).
set(TENURE_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers)
# GCC 12 reports false -Wrestrict inside libstdc++'s std::string at -O3 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND TENURE_WARNINGS -Wno-restrict)
endif()

if(TENURE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Which tests this build tree holds: all (default), unit (tests labelled unit) or integration
# (tests labelled integration, and the benchmarks). deploy/test builds its sanitizer tree with
# "unit" and its release tree with "integration", so no test source is compiled twice.
set(TENURE_TESTS "all" CACHE STRING "Tests to build: all, unit or integration")
set_property(CACHE TENURE_TESTS PROPERTY STRINGS all unit integration)
if(NOT TENURE_TESTS MATCHES "^(all|unit|integration)$")
  message(FATAL_ERROR "TENURE_TESTS must be all, unit or integration, not '${TENURE_TESTS}'")
endif()

# mold links the test binaries several times faster than ld.bfd (Debian package "mold").
option(TENURE_FAST_LINKER "Link with mold when it is installed" ON)
if(TENURE_FAST_LINKER AND NOT WIN32 AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  find_program(TENURE_MOLD mold)
  if(TENURE_MOLD)
    add_link_options(-fuse-ld=mold)
  endif()
endif()

# Precompiled headers: Boost.JSON, spdlog, Asio's io_context and (for tests) GoogleTest are parsed
# once per build tree instead of once per file. Every target reuses one of two PCHs, which works
# because every target has the same compile definitions (common_base brings Boost.JSON's and
# spdlog's to all of them). GCC falls back to the plain headers when a PCH does not fit.
# On by default for Debug trees only: with optimization, GCC 12 reports middle-end warnings
# (-Wstringop-overflow, -Warray-bounds) inside libstdc++'s inlined std::string code when the headers
# come from a PCH, which the same headers parsed as text never trigger (seen in name_template.cpp).
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(_tenure_pch_default ON)
else()
  set(_tenure_pch_default OFF)
endif()
option(TENURE_PCH "Precompile the heavy third-party headers" ${_tenure_pch_default})
set(TENURE_PCH_HEADERS
    <algorithm> <chrono> <cstdint> <functional> <map> <memory> <mutex> <optional> <string>
    <string_view> <vector> <boost/json.hpp> <spdlog/spdlog.h>)
if(NOT WIN32)
  list(APPEND TENURE_PCH_HEADERS <boost/asio/io_context.hpp> <boost/asio/steady_timer.hpp>)
endif()

# Called once the packages are found: the targets that own the two PCHs.
function(tenure_define_pch)
  if(NOT TENURE_PCH OR WIN32)
    return()
  endif()
  set(_src ${PROJECT_BINARY_DIR}/tenure_pch.cpp)
  file(WRITE ${_src}.in "// Owner of the shared precompiled header (cmake/TenureCompile.cmake).\n")
  configure_file(${_src}.in ${_src} COPYONLY)
  add_library(tenure_pch STATIC ${_src})
  target_link_libraries(tenure_pch PUBLIC Boost::json spdlog::spdlog)
  target_precompile_headers(tenure_pch PRIVATE ${TENURE_PCH_HEADERS})
  if(TENURE_BUILD_TESTS)
    add_library(tenure_test_pch STATIC ${_src})
    target_link_libraries(tenure_test_pch PUBLIC Boost::json spdlog::spdlog GTest::gtest GTest::gmock)
    target_precompile_headers(tenure_test_pch PRIVATE ${TENURE_PCH_HEADERS} <gtest/gtest.h>
                              <gmock/gmock.h>)
  endif()
endfunction()

function(tenure_use_pch target pch)
  if(TARGET ${pch})
    target_precompile_headers(${target} REUSE_FROM ${pch})
  endif()
endfunction()

# tenure_library(NAME SOURCES... DEPS ...) : one static library per module, named by its path.
function(tenure_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${TENURE_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  tenure_use_pch(${name} tenure_pch)
endfunction()

# True (in OUT) when a test with LABELS belongs in this build tree (TENURE_TESTS).
function(tenure_wants_test out)
  set(_want TRUE)
  if(TENURE_TESTS STREQUAL "unit" AND NOT "unit" IN_LIST ARGN)
    set(_want FALSE)
  elseif(TENURE_TESTS STREQUAL "integration" AND NOT "integration" IN_LIST ARGN)
    set(_want FALSE)
  endif()
  set(${out} ${_want} PARENT_SCOPE)
endfunction()

# tenure_test(NAME SOURCES... DEPS ... [LABELS ...]) : a GoogleTest binary registered with ctest,
# one per module. Does nothing when the build tree does not hold tests of its labels.
function(tenure_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  tenure_wants_test(_want ${ARG_LABELS})
  if(NOT _want)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${TENURE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  tenure_use_pch(${name} tenure_test_pch)
  gtest_discover_tests(${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 30
    PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# Adds each listed subdirectory that has a CMakeLists.txt.
macro(tenure_subdirectories)
  foreach(_d ${ARGN})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${_d}/CMakeLists.txt)
      add_subdirectory(${_d})
    endif()
  endforeach()
endmacro()
