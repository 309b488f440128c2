# Compiles PROBE (a file including one public header) against an include view and fails when
# the preprocessed text mentions a third-party library the public API must not pull in.
# cmake -DCXX=... -DVIEW=... -DPROBE=... -DFORBIDDEN="nlohmann;httplib;CLI" -P preprocess_check.cmake
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${VIEW} ${PROBE} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROBE} does not compile against ${VIEW} alone:\n${err}")
endif()
execute_process(COMMAND ${CXX} -std=c++20 -E -I${VIEW} ${PROBE} OUTPUT_VARIABLE pre RESULT_VARIABLE rc)
foreach(lib IN LISTS FORBIDDEN)
  string(FIND "${pre}" "${lib}/" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "${PROBE}: the public API pulls in ${lib}'s headers")
  endif()
endforeach()
message(STATUS "ok: ${PROBE} (${VIEW})")
