# packaging/package.cmake - what `cmake --install` lays out beyond the folders' own install()
# rules (bin/reporta from server/, share/reporta/areas from data/, share/reporta/web from web/):
# the systemd unit, /etc/default/reporta and the operations guide; then the CPack settings of the
# reporta .deb. Included last by the top-level CMakeLists.txt. The installed binary has the
# prefix's data paths compiled in, so a .deb is built from a tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr, and the package installs under that same prefix. See
# docs/operations.md and tests/pkg_test.sh, which builds, installs and runs the package.

set(REPORTA_PACKAGE_MAINTAINER "reporta maintainers <maintainers@reporta.invalid>"
    CACHE STRING "Maintainer field of the .deb: Name <address>")

# the unit names the installed paths; @ONLY, so systemd's own ${VAR} syntax is left alone
set(BINDIR "${CMAKE_INSTALL_FULL_BINDIR}")
set(SYSCONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}")
set(DOCDIR "${CMAKE_INSTALL_FULL_DOCDIR}")
configure_file(packaging/reporta.service.in packaging/reporta.service @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/packaging/reporta.service"
        DESTINATION lib/systemd/system)
# 0640: it may hold the webhook secret or a database password; systemd reads it as root
install(FILES packaging/reporta.default DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/default"
        RENAME reporta PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES docs/operations.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# dpkg keeps an operator's edits of a conffile across upgrades and removes it only on purge
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/packaging/conffiles"
     "${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/reporta\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME reporta)
set(CPACK_PACKAGE_VENDOR reporta)
set(CPACK_PACKAGE_CONTACT "${REPORTA_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "geospatial incident reporting for Panama's 311 line")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "reporta resolves a citizen's pin to its provincia, distrito and corregimiento,\n"
       "routes the case to the institution that must solve it, tracks it to closure and\n"
       "publishes statistics and open data. One program: an HTTP API (its own JSON/GeoJSON\n"
       "and Open311 GeoReport v2), map tiles and the browser app, on SpatiaLite or\n"
       "PostgreSQL + PostGIS. Ships the Panama boundaries (INEC 2023) and a hardened\n"
       "systemd unit.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_SOURCE_DIR}/packaging/postinst" "${CMAKE_CURRENT_SOURCE_DIR}/packaging/prerm"
    "${CMAKE_CURRENT_SOURCE_DIR}/packaging/postrm" "${CMAKE_CURRENT_BINARY_DIR}/packaging/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
