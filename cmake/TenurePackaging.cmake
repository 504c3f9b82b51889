# Debian packages (CPack DEB) for Linux: tenure-agent and tenure-cp, one package per install
# component. Each ships its binary in /usr/bin, a hardened systemd unit, a conffile under
# /etc/tenure and maintainer scripts (installer/linux/<component>/) that create its system user.
#   cmake --build <build> --target tenure-agent tenure-cp
#   cpack -G DEB --config <build>/CPackConfig.cmake -B <out>
# (tests/packaging/deb_test.sh does this and installs the packages.)
set(_pkg ${PROJECT_SOURCE_DIR}/installer/linux)

# systemd units and configuration (absolute /etc: CPack DEB installs it as is).
install(FILES ${_pkg}/agent/tenure-agent.service DESTINATION lib/systemd/system COMPONENT agent)
install(FILES ${_pkg}/agent/agent.json DESTINATION /etc/tenure
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT agent)
install(FILES ${_pkg}/controlplane/tenure-cp.service DESTINATION lib/systemd/system
        COMPONENT controlplane)
install(FILES ${_pkg}/controlplane/tenure-cp.env DESTINATION /etc/tenure
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT controlplane)

# conffiles: dpkg keeps an administrator's edits across upgrades.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/agent/conffiles "/etc/tenure/agent.json\n")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/controlplane/conffiles "/etc/tenure/tenure-cp.env\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tenure)
set(CPACK_PACKAGE_VENDOR "Tenure")
set(CPACK_PACKAGE_CONTACT "Tenure maintainers <tenure@example.com>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent controlplane)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dependencies from the binaries' shared libraries
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries: ship them stripped

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME tenure-agent)
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "Tenure agent: keeps Active Directory accounts in step with the HR system\n Runs next to the domain controllers, enrolls with the Tenure control plane and applies\n its jobs over LDAP.")
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${_pkg}/agent/postinst ${_pkg}/agent/prerm ${_pkg}/agent/postrm
    ${CMAKE_CURRENT_BINARY_DIR}/packaging/agent/conffiles)

set(CPACK_DEBIAN_CONTROLPLANE_PACKAGE_NAME tenure-cp)
set(CPACK_COMPONENT_CONTROLPLANE_DESCRIPTION
    "Tenure control plane\n Accepts HR data, plans account lifecycle changes and hands jobs to enrolled agents.")
set(CPACK_DEBIAN_CONTROLPLANE_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_CONTROLPLANE_PACKAGE_CONTROL_EXTRA
    ${_pkg}/controlplane/postinst ${_pkg}/controlplane/prerm ${_pkg}/controlplane/postrm
    ${CMAKE_CURRENT_BINARY_DIR}/packaging/controlplane/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
