# The export example on a small budget (CTest's example_export):
#   cmake -DMNIST=path/to/mnist -DEXPORT=path/to/export -DWORK=dir -P test.cmake
# trains the MLP briefly, exports its forward pass, imports it in the export program and checks
# that the test accuracy is the same.
set(file ${WORK}/example_export_mlp.lzfn)
file(REMOVE ${file})
execute_process(COMMAND ${MNIST} --epochs 1 --subset 1800 --lr 0.05 --export ${file}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("$ mnist ... --export ${file}\n${out}${err}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "test accuracy: ([0-9.]+)%")
  message(FATAL_ERROR "mnist failed (${rc})")
endif()
set(trained ${CMAKE_MATCH_1})
execute_process(COMMAND ${EXPORT} ${file} --subset 301
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("$ export ${file} --subset 301\n${out}${err}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "test accuracy: ([0-9.]+)%")
  message(FATAL_ERROR "export failed (${rc})")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL trained)
  message(FATAL_ERROR "imported model: ${CMAKE_MATCH_1}%, trained model: ${trained}%")
endif()
execute_process(COMMAND ${EXPORT} ${WORK}/no_such_file.lzfn RESULT_VARIABLE rc
                ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "lz_import_function.*cannot open")
  message(FATAL_ERROR "a missing file: ${rc} ${err}")
endif()
file(REMOVE ${file})
