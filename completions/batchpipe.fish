# fish completion for batchpipe(1). Installed in share/fish/vendor_completions.d;
# keep in step with src/cli.cc and man/batchpipe.1.

# Arguments are input files ("-" is stdin): fish completes file names by default.

complete -c batchpipe -s h -l help -d 'Print a summary of the options and exit'
complete -c batchpipe -s V -l version -d 'Print the version and exit'
complete -c batchpipe -l size -x -d 'Close a batch when it holds N records [1000]'
complete -c batchpipe -l interval -x -d 'Close a batch when its oldest record is DUR old; 0 = off [500ms]' \
    -a '0\t"No time limit" 250ms\t"250 milliseconds" 500ms\t"500 milliseconds (default)" 1s\t"1 second" 2s\t"2 seconds" 1m\t"1 minute"'
complete -c batchpipe -l max-bytes -x -d 'Largest encoded batch, brackets included; K/M/G = KiB/MiB/GiB [8M]' \
    -a '64K\t"64 KiB" 1M\t"1 MiB" 8M\t"8 MiB (default)" 64M\t"64 MiB"'
complete -c batchpipe -l on-invalid -x -d 'What to do with an invalid line [skip]' \
    -a 'skip\t"Report the line and leave it out (exit status 1)" fail\t"Report the line and stop reading (exit status 3)" quote\t"Deliver the line as a JSON string"'
complete -c batchpipe -l stats -d 'Print a summary on stderr at the end'
complete -c batchpipe -s q -l quiet -d 'Do not report invalid lines one by one'
