#pragma once
// UTF-8 <-> UTF-16 for Windows API calls (Windows build only). Tenure keeps text as UTF-8
// everywhere; the W functions are used so that non-ASCII names never pass through an ANSI code page.

#include <windows.h>

#include <string>
#include <string_view>

namespace tenure::win {

inline std::wstring widen(std::string_view s) {
  if (s.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

inline std::string narrow(std::wstring_view s) {
  if (s.empty()) return {};
  int n = WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0,
                              nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n, nullptr,
                      nullptr);
  return out;
}

// The system's text for a Win32 (or WinHTTP/LDAP module) error code, without the trailing newline.
inline std::string errorText(unsigned long code, const wchar_t* module = nullptr) {
  wchar_t* buf = nullptr;
  DWORD flags = FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                FORMAT_MESSAGE_IGNORE_INSERTS;
  HMODULE mod = module != nullptr ? GetModuleHandleW(module) : nullptr;
  if (mod != nullptr) flags |= FORMAT_MESSAGE_FROM_HMODULE;
  DWORD n = FormatMessageW(flags, mod, code, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
  std::string text;
  if (n > 0 && buf != nullptr) text = narrow(std::wstring_view(buf, n));
  if (buf != nullptr) LocalFree(buf);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.empty()) text = "error " + std::to_string(code);
  return text;
}

}  // namespace tenure::win
