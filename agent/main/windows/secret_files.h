#pragma once
// The agent's secrets at rest on Windows (the AD service-account password, the enroll secret):
// DPAPI blobs in machine scope, `<state_dir>\<name>.dpapi`, in the state directory that only SYSTEM
// and Administrators can open. Only this machine can decrypt them, so a copied file or a backup of
// ProgramData is useless elsewhere. They are never written in clear: the MSI hands them over through
// the registry (deleted once protected), `tenure-agent config set-password` reads from the console.

#include <filesystem>
#include <string>
#include <string_view>

#include "agent/main/windows/service.h"
#include "common/base/status.h"

namespace tenure::agent::winsvc {

// The config fields that name secret files, and the files the agent keeps them in.
inline constexpr const char* kPasswordField = "password_file";
inline constexpr const char* kEnrollSecretField = "enroll_secret_file";
std::filesystem::path secretFilePath(const Paths& paths, std::string_view field);

// The SecretFileReader of the Windows agent: a `.dpapi` file is decrypted (DPAPI's entropy is the
// field name, so one secret's blob does not pass for another); any other file is read as plain text
// (a file an administrator wrote by hand; the service protects those in its state directory).
Result<std::string> readSecretFile(const std::string& path, const std::string& field);

// Protects `secret`, writes it to secretFilePath() atomically, points `field` of the config at it
// (creating the config when missing) and removes the plain file it replaces, if that was in the
// state directory.
Status storeSecret(const Paths& paths, std::string_view field, std::string_view secret);

// Upgrade path from agents that kept secrets as plain files in the state directory: each config
// field naming such a file is moved to a DPAPI blob and the plain file is deleted. `changed` tells
// whether anything was converted.
Status protectPlainSecrets(const Paths& paths, bool* changed = nullptr);

// `tenure-agent config set-password`: reads the AD service-account password from standard input
// (not echoed on a console) and stores it with storeSecret(). Returns the process exit code.
int configCommand(const Paths& paths, int argc, char** argv);

}  // namespace tenure::agent::winsvc
