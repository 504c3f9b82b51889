# tenure_zone_fixture(<target> <IANA zone>): gives <target> a generated header
# "tzif_<Zone_Id>.h" with `embeddedTzif_<Zone_Id>()`, the bytes of the build machine's
# /usr/share/zoneinfo/<zone>: the data a control plane on that machine sends with a job. Tests of a
# cross-built agent (Wine) thus use the build machine's tzdata, never a zoneinfo directory of their
# own.
set(_tenure_zone_fixture_script ${CMAKE_CURRENT_LIST_DIR}/embed_tzif.cmake)
function(tenure_zone_fixture target zone)
  if(NOT TARGET ${target})  # a tree that does not build this test
    return()
  endif()
  set(in /usr/share/zoneinfo/${zone})
  if(NOT EXISTS ${in})
    message(FATAL_ERROR "${in} is missing: install tzdata on the build machine")
  endif()
  string(MAKE_C_IDENTIFIER "${zone}" id)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}_zones)
  set(out ${dir}/tzif_${id}.h)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${in} -DOUT=${out} -DID=${id} -P ${_tenure_zone_fixture_script}
    DEPENDS ${in} ${_tenure_zone_fixture_script}
    COMMENT "Embedding the TZif of ${zone}" VERBATIM)
  target_sources(${target} PRIVATE ${out})
  target_include_directories(${target} PRIVATE ${dir})
endfunction()
