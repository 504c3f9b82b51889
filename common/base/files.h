#pragma once
// Files that hold credentials or personal data (the node key, the agent's secrets, SQLite
// databases and the result spool): created so that only their owner can open them, and replaced
// atomically so that a crash leaves the old content or the new, never a torn mix. POSIX:
// posix/files.cpp (mode 0600, fsync + rename); Windows: windows/files.cpp (a protected DACL,
// MoveFileExW with write-through).

#include <filesystem>
#include <string_view>

#include "common/base/status.h"

namespace tenure {

// Who may open a file this module creates.
enum class FileAccess {
  // POSIX: mode 0600. Windows: a protected DACL (nothing inherited from the folder) granting full
  // control to the current user and to SYSTEM, the account the agent's service runs as; SYSTEM can
  // read any file anyway, and without it a file an administrator wrote from a console would be
  // unreadable to the service.
  kOwnerOnly,
  // POSIX: 0666 less the umask. Windows: inherited from the folder.
  kInherited,
};

// Creates `path` when missing, readable and writable by its owner only (FileAccess::kOwnerOnly);
// an existing file is left as it is, contents and permissions. The parent folder must exist.
// Errors: permission (access denied, read-only file system) or config (anything else).
Status createPrivateFile(const std::filesystem::path& path);

// Writes `data` to a new temporary file beside `target`, flushes it to disk and renames it over
// `target` (then, on POSIX, flushes the folder so the rename itself is durable). The temporary
// file is removed when anything fails. Errors as createPrivateFile's.
Status replaceFileAtomically(const std::filesystem::path& target, std::string_view data,
                             FileAccess access = FileAccess::kOwnerOnly);

// A path from UTF-8 text (what SQLite and the configuration files use): on Windows a plain
// std::string would be read in the ANSI code page.
std::filesystem::path pathFromUtf8(std::string_view utf8);

}  // namespace tenure
