# The Windows (mingw-w64) agent build: stands in for the find_package() calls of the Linux build with
# targets of the same names, built from Debian's header-only libraries and the system's Windows APIs.
# Included by the top-level CMakeLists.txt when WIN32. See docs/adr/0004-windows-agent-build.md.

# Debian's header-only libraries, one folder each: putting /usr/include itself on the path would
# shadow mingw's own C headers (stdio.h, pthread.h, ...).
set(TENURE_WIN_INCLUDE ${CMAKE_BINARY_DIR}/win-include)
file(MAKE_DIRECTORY ${TENURE_WIN_INCLUDE})
foreach(_dir boost spdlog fmt gtest gmock)
  if(EXISTS /usr/include/${_dir} AND NOT EXISTS ${TENURE_WIN_INCLUDE}/${_dir})
    file(CREATE_LINK /usr/include/${_dir} ${TENURE_WIN_INCLUDE}/${_dir} SYMBOLIC)
  endif()
endforeach()

add_library(tenure_win_headers INTERFACE)
target_include_directories(tenure_win_headers SYSTEM INTERFACE ${TENURE_WIN_INCLUDE})
# Boost.Asio/Beast are not used by the agent; Boost.System stays header-only.
target_compile_definitions(tenure_win_headers INTERFACE BOOST_ALL_NO_LIB)

# Boost.JSON compiled into the program (one TU including boost/json/src.hpp).
set(_boost_json_tu ${CMAKE_BINARY_DIR}/win-src/boost_json.cpp)
file(WRITE ${_boost_json_tu}.in "#include <boost/json/src.hpp>\n")
configure_file(${_boost_json_tu}.in ${_boost_json_tu} COPYONLY)
add_library(tenure_boost_json STATIC ${_boost_json_tu})
target_link_libraries(tenure_boost_json PUBLIC tenure_win_headers)
add_library(Boost::json ALIAS tenure_boost_json)

# spdlog + fmt header-only (Debian's spdlog is otherwise built against the shared libfmt).
add_library(tenure_spdlog INTERFACE)
target_link_libraries(tenure_spdlog INTERFACE tenure_win_headers)
target_compile_definitions(tenure_spdlog INTERFACE SPDLOG_HEADER_ONLY FMT_HEADER_ONLY)
add_library(spdlog::spdlog ALIAS tenure_spdlog)

# SQLite from the amalgamation of Debian's sqlite3 source package, cached in the build directory.
set(TENURE_SQLITE_DIR ${CMAKE_BINARY_DIR}/sqlite-amalgamation CACHE PATH
    "folder holding sqlite3.c and sqlite3.h for the Windows build")
if(NOT EXISTS ${TENURE_SQLITE_DIR}/sqlite3.c)
  message(STATUS "Fetching the SQLite amalgamation from Debian's sqlite3 source package")
  execute_process(
    COMMAND ${PROJECT_SOURCE_DIR}/installer/windows/fetch-sqlite-amalgamation.sh ${TENURE_SQLITE_DIR}
    RESULT_VARIABLE _sqlite_rc)
  if(NOT _sqlite_rc EQUAL 0)
    message(FATAL_ERROR "could not produce the SQLite amalgamation in ${TENURE_SQLITE_DIR}")
  endif()
endif()
enable_language(C)
add_library(tenure_sqlite3 STATIC ${TENURE_SQLITE_DIR}/sqlite3.c)
target_include_directories(tenure_sqlite3 SYSTEM PUBLIC ${TENURE_SQLITE_DIR})
# The agent's spool only needs the core; threadsafe (serialized) as the Linux library is.
target_compile_definitions(tenure_sqlite3 PRIVATE SQLITE_THREADSAFE=1 SQLITE_OMIT_LOAD_EXTENSION
                                                  SQLITE_DQS=0 SQLITE_DEFAULT_FOREIGN_KEYS=0)
target_compile_options(tenure_sqlite3 PRIVATE -w)
add_library(SQLite::SQLite3 ALIAS tenure_sqlite3)

# No POSIX-compatibility macros: shared code reaches the platform through common/base (files.h,
# calendar_time.h) and its posix/ and windows/ implementations.
# GCC 12 reports a false -Wrestrict inside libstdc++'s std::string at -O3 for this target (GCC
# bug 105329); the Linux build (Debug) never sees it.
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)


# GoogleTest from Debian's source package, built with the cross compiler.
if(TENURE_BUILD_TESTS)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(gtest_disable_pthreads OFF CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)
  # googletest's own CMakeLists defines the GTest:: aliases.
  foreach(_t gtest gmock gtest_main)
    if(NOT TARGET GTest::${_t})
      add_library(GTest::${_t} ALIAS ${_t})
    endif()
  endforeach()
endif()
