# The transformer_lm example on a small budget (run by CTest as example_transformer_lm):
#   cmake -DEXE=path/to/transformer_lm -DWORK=dir -P test.cmake
# trains a tiny model for 40 steps and saves it, resumes it up to step 60, generates text, and
# checks that the loss falls below bounds, that the resumed run starts where the first stopped,
# and that bad options and missing data give clear messages.
set(ck ${WORK}/transformer_lm_test.safetensors)
set(common --subset 300000 --batch 16 --log-every 10 --eval-batches 2 --lr 0.01)
file(REMOVE ${ck})

function(run expect_rc)
  execute_process(COMMAND ${EXE} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  message("$ transformer_lm ${ARGN}\n${out}${err}")
  if(NOT rc STREQUAL expect_rc)
    message(FATAL_ERROR "transformer_lm exited with ${rc}, expected ${expect_rc}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(expect text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "transformer_lm: ${what} (no match for '${regex}')")
  endif()
  set(match1 "${CMAKE_MATCH_1}" PARENT_SCOPE)
  set(match2 "${CMAKE_MATCH_2}" PARENT_SCOPE)
endfunction()

# 1. From scratch: the loss must fall (checked by --max-loss) and a checkpoint appear. The same
#    run with --compile (forward and backward traced once, then replayed) gives the same losses.
set(tiny --steps 40 --dims 32 --heads 2 --layers 2 --seq 32)
run(0 ${common} ${tiny} --save ${ck} --max-loss 3.3)
expect("${out}" "saved .* \\(step 40\\)" "no checkpoint saved")
expect("${out}" "step +40/40  loss ([0-9])\\.([0-9]+)" "no loss at step 40")
set(plain "${match1}${match2}")
run(0 ${common} ${tiny} --compile)
expect("${out}" "step +40/40  loss ([0-9])\\.([0-9]+)" "no loss at step 40")
math(EXPR diff "${match1}${match2} - ${plain}")
if(diff GREATER 20 OR diff LESS -20) # in units of 1e-4
  message(FATAL_ERROR "transformer_lm: --compile changed the loss at step 40 by ${diff}e-4")
endif()

# 2. Resumed: the model and the optimizer continue from step 40 (a fresh model would start
#    near ln(vocabulary) = 4.6), train to step 60, then write text from a prompt.
run(0 ${common} --resume ${ck} --steps 60 --max-loss 3.1 --generate "The " --tokens 40
    --top-k 10)
expect("${out}" "at step 40: validation loss ([0-9.]+)" "did not resume at step 40")
if(NOT match1 LESS 3.3)
  message(FATAL_ERROR "transformer_lm: the resumed model's loss ${match1} is too high")
endif()
expect("${out}" "step +60/60" "did not train up to step 60")
expect("${out}" "---- sample[^\n]*\nThe [^\n][^\n][^\n][^\n][^\n]" "generated no text")

# 3. Generation alone from the checkpoint (greedy), and the errors.
run(0 --resume ${ck} --generate "Q: " --tokens 20 --temperature 0)
expect("${out}" "\nQ: [^\n]+" "generated no text")
run(2 --steps)
expect("${err}" "usage:" "no usage on a bad option")
run(1 --data ${WORK}/no-such-dir --steps 1)
expect("${err}" "apt-get install fortunes" "no hint on missing data")
file(REMOVE ${ck})
