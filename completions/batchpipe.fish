# fish completion for batchpipe(1). Installed in share/fish/vendor_completions.d;
# keep in step with src/cli/option_table.cc and man/batchpipe.1.

# Arguments are input files ("-" is stdin): fish completes file names by default.

complete -c batchpipe -s h -l help -d 'Print a summary of the options and exit'
complete -c batchpipe -s V -l version -d 'Print the version and exit'
complete -c batchpipe -l size -x -d 'Close a batch when it holds N records [1000]'
complete -c batchpipe -l interval -x -d 'Close a batch when its oldest record is DUR old; a bare number is seconds; 0 = off [500ms]' \
    -a '0\t"No time limit" 250ms\t"250 milliseconds" 500ms\t"500 milliseconds (default)" 1s\t"1 second" 2s\t"2 seconds" 1m\t"1 minute"'
complete -c batchpipe -l max-bytes -x -d 'Largest batch as written or sent, newline included; K/M/G = KiB/MiB/GiB [8M]' \
    -a '64K\t"64 KiB" 1M\t"1 MiB" 8M\t"8 MiB (default)" 64M\t"64 MiB"'
complete -c batchpipe -l max-buffer -x -d 'Hold at most SIZE of records read but not yet delivered [64M]' \
    -a '16M\t"16 MiB" 64M\t"64 MiB (default)" 256M\t"256 MiB" 1G\t"1 GiB"'
complete -c batchpipe -l max-keys -x -d 'Routing by field: keep at most N batches open, one per key [1000]' \
    -a '100 1000 10000'
complete -c batchpipe -l on-full -x -d 'When --max-buffer is full [block]' \
    -a 'block\t"Stop reading: the producer waits (default)" drop\t"Drop new records, count them (exit status 4)"'
complete -c batchpipe -l threads -x -d 'Validate on N threads; 1 = on the loop thread [online CPUs, at most 4]' \
    -a '1\t"On the loop thread" 2 4 8'
complete -c batchpipe -l input -x -d 'What a line is [json]' \
    -a 'json\t"One JSON value a line (default)" text\t"Any line, sent as a JSON string"'
complete -c batchpipe -l format -x -d 'Batch body [array]' \
    -a 'array\t"[r1,r2] and a newline (default)" ndjson\t"Each record and a newline" bulk\t"Elasticsearch _bulk: an action line before each record"'
complete -c batchpipe -l wrap -x -d 'Put the array where @ stands in PREFIX@SUFFIX, e.g. {"events":@}'
complete -c batchpipe -l bulk-action -x -d '--format bulk action line; {record_id} a stable id, {.field} a value of its record [{"index":{}}]'
complete -c batchpipe -l on-invalid -x -d 'What to do with an invalid line [skip]' \
    -a 'skip\t"Report the line and leave it out (exit status 1)" fail\t"Report the line and stop reading (exit status 3)" quote\t"Deliver the line as a JSON string"'
complete -c batchpipe -l stats -d 'Print a summary on stderr at the end (--stats=json: one JSON object)'
complete -c batchpipe -l progress -d 'Show progress on stderr: a status line on a terminal, else a line every 10s'
complete -c batchpipe -l metrics-file -r -F -d 'Write Prometheus metrics to FILE every 5s and at exit, atomically; not an input'
complete -c batchpipe -l metrics-label -x -d 'Put the label KEY="VALUE" on every series of --metrics-file (repeatable)'
complete -c batchpipe -l checkpoint -r -F -d 'Keep in FILE how far each input file was delivered; start there next time (not stdin)'
complete -c batchpipe -l spool -x -a '(__fish_complete_directories)' -d 'Keep what stdin and pipes send in files in DIR until delivered; restarts there'
complete -c batchpipe -l spool-max -x -d 'With --spool: at most SIZE on disk, then --on-full applies [1G]' -a '256M 1G 4G 16G'
complete -c batchpipe -l spool-sync -x -d 'With --spool: sync the spool to disk at least this often [200ms]' -a '50ms 200ms 1s'
complete -c batchpipe -s F -l follow -d 'Keep reading files as they grow, as tail -F does, across rotation and truncation'
complete -c batchpipe -l rotate-wait -x -d 'With -F, keep reading a renamed or deleted file until quiet for DUR [5s]' \
    -a '0\t"Leave it as soon as the new file is written" 1s\t"1 second" 5s\t"5 seconds (default)" 30s\t"30 seconds" 1m\t"1 minute"'
complete -c batchpipe -s q -l quiet -d 'Do not report invalid lines and retries one by one'

# Delivery to a command or over HTTP; the options after --post only apply with
# one of --exec and --post, which exclude each other.
complete -c batchpipe -l exec -x -d "Run '/bin/sh -c CMD' once per batch, the batch on its stdin" \
    -n 'not __fish_seen_argument -l post' -a '(__fish_complete_command)'
complete -c batchpipe -l post -x -d 'Send each batch to an http(s) URL ({batch_id}, {batch}, {attempt} filled in); several: round-robin failover' \
    -n 'not __fish_seen_argument -l exec' -a 'http:// https://'

# HTTP options: only with --post.
# -H 'Name: value' is free text; -H @FILE completes the file name after the @.
function __batchpipe_header_file
    set -l token (commandline -ct)
    set token (string replace -r -- '^(--header=|-H)' '' $token)
    string match -q -- '@*' $token; or return
    for path in (__fish_complete_path (string sub -s 2 -- $token))
        echo @$path
    end
end
complete -c batchpipe -s H -l header -x -d 'Add a request header; @FILE reads one a line, again when it changes; not Idempotency-Key' \
    -a '(__batchpipe_header_file)'
complete -c batchpipe -l method -x -d 'HTTP method [POST]' -a 'POST PUT'
complete -c batchpipe -l compress -x -d 'Compress request bodies' \
    -a 'gzip\t"Content-Encoding: gzip, level 6" gzip:1\t"gzip, fastest" gzip:12\t"gzip, smallest" zstd\t"Content-Encoding: zstd, level 3" zstd:1\t"zstd, fastest" zstd:19\t"zstd, small and slow"'
complete -c batchpipe -l connect-timeout -x -d 'Limit on connecting [10s]' \
    -a '0\t"libcurl\'s own limit (300s)" 1s\t"1 second" 5s\t"5 seconds" 10s\t"10 seconds (default)" 30s\t"30 seconds"'
complete -c batchpipe -l cacert -r -F -d 'Trust the CA certificates in FILE (PEM)'
complete -c batchpipe -l cert -r -F -d 'Present the client certificate in FILE (PEM; its key too, unless --key); read again when it changes'
complete -c batchpipe -l key -r -F -d 'The private key of --cert, in FILE (PEM, not encrypted)'
complete -c batchpipe -l aws-sigv4 -x -d 'Sign requests with AWS Signature V4; keys from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN' \
    -a 'aws:amz\t"Region and service from the host name" aws:amz:us-east-1:firehose aws:amz:us-east-1:es aws:amz:us-east-1:s3'
complete -c batchpipe -l insecure -d 'Do not verify TLS certificates (warns)'
complete -c batchpipe -l item-results -x -d 'In a 2xx reply, the array (JSON Pointer) of one result per record' \
    -a '/RequestResponses\t"Firehose PutRecordBatch" /Records\t"Kinesis PutRecords"'
complete -c batchpipe -l item-failures -x -d 'In a 2xx reply, the array (JSON Pointer) listing only the failed records' \
    -a '/insertErrors\t"BigQuery insertAll"'
complete -c batchpipe -l item-index -x -d 'Where a --item-failures element names its record, from 0 [/index]' -a '/index'
complete -c batchpipe -l item-error -x -d 'Where an item holds its error; present and not null = failed' \
    -a '/ErrorCode\t"Firehose, Kinesis" /errors\t"BigQuery"'
complete -c batchpipe -l item-retryable -x -d 'Send a failed item again when its error matches REGEX'

# Delivery options: with --exec or --post.
complete -c batchpipe -l retries -x -d 'Retries after a failed attempt; 0 = none, inf = until delivered [5; inf with -F]' \
    -a '0\t"No retries" 1 3 5\t"The default (inf with -F)" 10 inf\t"Until delivered (bound with --retry-max-time)"'
complete -c batchpipe -l retry-delay -x -d 'First retry delay, doubled each time [500ms]' \
    -a '100ms\t"100 milliseconds" 250ms\t"250 milliseconds" 500ms\t"500 milliseconds (default)" 1s\t"1 second" 2s\t"2 seconds"'
complete -c batchpipe -l retry-max-delay -x -d 'Longest delay between retries [30s]' \
    -a '5s\t"5 seconds" 10s\t"10 seconds" 30s\t"30 seconds (default)" 1m\t"1 minute" 5m\t"5 minutes"'
complete -c batchpipe -l retry-max-time -x -d 'Give a batch up after this long; 0 = no limit [0]' \
    -a '0\t"No limit (default)" 30s\t"30 seconds" 1m\t"1 minute" 5m\t"5 minutes" 1h\t"1 hour"'
complete -c batchpipe -l timeout -x -d 'Limit on each attempt; 0 = none [--exec: 0, --post: 30s]' \
    -a '0\t"No limit (default with --exec)" 10s\t"10 seconds" 30s\t"30 seconds (default with --post)" 1m\t"1 minute" 5m\t"5 minutes"'
complete -c batchpipe -l on-error -x -d 'After retries run out [continue]' \
    -a 'continue\t"Give the batch up, go on with the next (exit status 4)" stop\t"Give the batch up, deliver nothing more (exit status 5)"'
complete -c batchpipe -l env -x -d '--exec: set NAME for the command from record fields, e.g. TENANT={.tenant}'
complete -c batchpipe -l dead-letter -r -F -d 'Append undelivered records to FILE as NDJSON (mode 0600); not an input; yours alone'
complete -c batchpipe -l dead-letter-reasons -r -F -d 'With --dead-letter, append why each record was given up to FILE, a JSON line each'
complete -c batchpipe -l grace -x -d 'After SIGTERM/SIGINT, time left for deliveries under way [10s]' \
    -a '0\t"Give up at once" 5s\t"5 seconds" 10s\t"10 seconds (default)" 30s\t"30 seconds" 1m\t"1 minute"'
complete -c batchpipe -s j -l parallel -x -d 'Deliver up to N batches at once (or auto[:MAX]: adapt), in input order [1]' \
    -a '1\t"One at a time (default)" 4 8 16 64 auto\t"Settle where the receiver slows, up to 32" auto:64\t"Adapt, up to 64"'
complete -c batchpipe -l permanent-status -x -d 'Give a batch up without retries on these exit/HTTP statuses'
complete -c batchpipe -l retryable-status -x -d 'Retry on these exit/HTTP statuses'
complete -c batchpipe -l bisect-on -x -d 'Split a batch refused with these HTTP/exit statuses until the bad records are alone' -a '400 400,422 3'
complete -c batchpipe -l retryable-reply -x -d 'Retry a failure whose reply (body, or stderr) matches REGEX'
complete -c batchpipe -l bisect-reply -x -d 'Split a batch whose failure reply matches REGEX until the bad records are alone'
complete -c batchpipe -l permanent-reply -x -d 'Give a batch up without retries when its failure reply matches REGEX'
complete -c batchpipe -l rate -x -d 'Start at most N requests per second (N/s) or minute (N/m), over all workers' \
    -a '10/s\t"10 a second" 100/s\t"100 a second" 60/m\t"60 a minute" 600/m\t"600 a minute"'
complete -c batchpipe -s v -l verbose -d 'Log every delivery attempt on stderr'
complete -c batchpipe -l map -d "The answer is a JSON array, one element per record: print each record's, in order"
complete -c batchpipe -l map-with-input -d 'As --map, printing {"in":RECORD,"out":ANSWER} for each record'
