# Cross toolchain for the Windows (x86-64) agent: mingw-w64 GCC 12 (posix threads) from Debian.
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=installer/windows/mingw-w64.cmake
# Only the agent and common/ are built (see cmake/TenureWindows.cmake); ctest runs the Windows test
# binaries under Wine through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_tenure_mingw x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_tenure_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_tenure_mingw}-g++-posix)
set(CMAKE_RC_COMPILER ${_tenure_mingw}-windres)
set(CMAKE_AR ${_tenure_mingw}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${_tenure_mingw}-gcc-ranlib-posix CACHE FILEPATH "")

# Libraries and headers come from the mingw sysroot only: /usr/include would shadow mingw's C
# headers. Debian's header-only libraries are exposed one folder at a time by TenureWindows.cmake.
set(CMAKE_FIND_ROOT_PATH /usr/${_tenure_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/wine CACHE FILEPATH "runs Windows test binaries")

# Windows 10 / Server 2016 API level; a self-contained exe (no libgcc/libstdc++/winpthread DLLs).
add_compile_definitions(_WIN32_WINNT=0x0A00 WINVER=0x0A00 UNICODE _UNICODE NOMINMAX
                        WIN32_LEAN_AND_MEAN)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
