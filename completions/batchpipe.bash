# bash completion for batchpipe(1)                          -*- shell-script -*-
# Installed as share/bash-completion/completions/batchpipe; keep in step with
# src/cli/option_table.cc and man/batchpipe.1.

_batchpipe()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

    local opts='--size --interval --max-bytes --max-buffer --on-full --max-keys --threads --input --format --wrap --bulk-action --on-invalid --stats --stats=json --progress --metrics-file --metrics-label --checkpoint -F --follow --rotate-wait --spool --spool-max --spool-sync -q --quiet -h --help -V --version
        --exec --post -H --header --method --compress --connect-timeout --cacert --cert --key --aws-sigv4 --insecure --item-results --item-failures --item-index --item-error --item-retryable
        --retries --retry-delay --retry-max-delay --retry-max-time --timeout --on-error
        --env --dead-letter --dead-letter-reasons --grace -j --parallel --rate --permanent-status --retryable-status --bisect-on --retryable-reply --bisect-reply --permanent-reply -v --verbose --map --map-with-input'

    # After "--" every word is a file.
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -- ]]; then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
        fi
    done

    # --option=value: one word, or three when "=" is in COMP_WORDBREAKS.
    if [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    elif [[ $cur == = ]] && ((COMP_CWORD > 1)); then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    # -H @FILE: with "@" in COMP_WORDBREAKS (the default), "@" (or "=@" after
    # --header=) is a word of its own. Readline still replaces the "@" along
    # with the file name (it is one of its special prefixes), so the matches
    # keep it.
    if [[ ($cur == @ && ($prev == -H || $prev == --header)) || ($cur == =@ && $prev == --header) ]]; then
        cur=@
    elif [[ $prev == @ || $prev == =@ ]] && ((COMP_CWORD > 2)); then
        case ${COMP_WORDS[COMP_CWORD - 2]} in
            -H | --header)
                prev=${COMP_WORDS[COMP_CWORD - 2]}
                cur=@$cur
                ;;
        esac
    fi

    case $prev in
        --on-invalid)
            mapfile -t COMPREPLY < <(compgen -W 'skip fail quote' -- "$cur")
            return 0
            ;;
        --size)
            mapfile -t COMPREPLY < <(compgen -W '100 500 1000 5000' -- "$cur")
            return 0
            ;;
        --interval)
            mapfile -t COMPREPLY < <(compgen -W '0 100ms 250ms 500ms 1s 2s 5s 1m' -- "$cur")
            return 0
            ;;
        --max-bytes)
            mapfile -t COMPREPLY < <(compgen -W '64K 256K 1M 8M 64M' -- "$cur")
            return 0
            ;;
        --max-buffer)
            mapfile -t COMPREPLY < <(compgen -W '16M 64M 256M 1G' -- "$cur")
            return 0
            ;;
        --spool)
            compopt -o dirnames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
            ;;
        --spool-max)
            mapfile -t COMPREPLY < <(compgen -W '256M 1G 4G 16G' -- "$cur")
            return 0
            ;;
        --spool-sync)
            mapfile -t COMPREPLY < <(compgen -W '50ms 200ms 1s' -- "$cur")
            return 0
            ;;
        --max-keys)
            mapfile -t COMPREPLY < <(compgen -W '100 1000 10000' -- "$cur")
            return 0
            ;;
        --env)
            return 0
            ;;
        --on-full)
            mapfile -t COMPREPLY < <(compgen -W 'block drop' -- "$cur")
            return 0
            ;;
        --input)
            mapfile -t COMPREPLY < <(compgen -W 'json text' -- "$cur")
            return 0
            ;;
        --threads)
            mapfile -t COMPREPLY < <(compgen -W '1 2 4 8' -- "$cur")
            return 0
            ;;
        -j | --parallel)
            mapfile -t COMPREPLY < <(compgen -W '1 2 4 8 16 32 64 auto auto:64' -- "$cur")
            return 0
            ;;
        --permanent-status | --retryable-status | --bisect-on | --retryable-reply | --bisect-reply | --permanent-reply)
            return 0
            ;;
        --item-results)
            mapfile -t COMPREPLY < <(compgen -W '/RequestResponses /Records' -- "$cur")
            return 0
            ;;
        --item-failures)
            mapfile -t COMPREPLY < <(compgen -W '/insertErrors' -- "$cur")
            return 0
            ;;
        --item-index)
            mapfile -t COMPREPLY < <(compgen -W '/index' -- "$cur")
            return 0
            ;;
        --item-error)
            mapfile -t COMPREPLY < <(compgen -W '/ErrorCode /errors /error' -- "$cur")
            return 0
            ;;
        --item-retryable)
            return 0
            ;;
        --aws-sigv4)
            mapfile -t COMPREPLY < <(compgen -W 'aws:amz aws:amz:us-east-1:firehose aws:amz:us-east-1:es aws:amz:us-east-1:s3' -- "$cur")
            return 0
            ;;
        --rate)
            mapfile -t COMPREPLY < <(compgen -W '1/s 10/s 100/s 60/m 600/m' -- "$cur")
            return 0
            ;;
        --exec)
            # A shell command line: offer command names for its first word.
            [[ $cur == *[[:space:]]* ]] && return 0
            mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
            return 0
            ;;
        --post)
            compopt -o nospace 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -W 'http:// https://' -- "$cur")
            return 0
            ;;
        -H | --header)
            # 'Name: value' is free text; @FILE reads headers from a file.
            # No "-o filenames": readline would quote the "@" as "\@" (it is
            # one of its filename quote characters); the file name part is
            # quoted here instead, and directories get their "/".
            if [[ $cur == @* ]]; then
                local f q
                while IFS= read -r f; do
                    printf -v q %q "$f"
                    [[ $f == "~"* ]] && q=$f
                    if [[ -d $f ]]; then
                        COMPREPLY+=("@$q/")
                        compopt -o nospace 2>/dev/null
                    else
                        COMPREPLY+=("@$q")
                    fi
                done < <(compgen -f -- "${cur#@}")
            fi
            return 0
            ;;
        --compress)
            mapfile -t COMPREPLY < <(compgen -W 'gzip zstd gzip:1 gzip:6 gzip:9 gzip:12 zstd:1 zstd:3 zstd:9 zstd:19' -- "$cur")
            return 0
            ;;
        --format)
            mapfile -t COMPREPLY < <(compgen -W 'array ndjson bulk' -- "$cur")
            return 0
            ;;
        --method)
            mapfile -t COMPREPLY < <(compgen -W 'POST PUT' -- "$cur")
            return 0
            ;;
        --wrap | --bulk-action | --metrics-label)
            # Free text: nothing to offer.
            return 0
            ;;
        --connect-timeout)
            mapfile -t COMPREPLY < <(compgen -W '0 1s 5s 10s 30s' -- "$cur")
            return 0
            ;;
        --cacert | --cert | --key | --dead-letter | --dead-letter-reasons | --metrics-file | --checkpoint)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
            ;;
        --on-error)
            mapfile -t COMPREPLY < <(compgen -W 'continue stop' -- "$cur")
            return 0
            ;;
        --retries)
            mapfile -t COMPREPLY < <(compgen -W '0 1 3 5 10 inf' -- "$cur")
            return 0
            ;;
        --retry-delay)
            mapfile -t COMPREPLY < <(compgen -W '100ms 250ms 500ms 1s 2s' -- "$cur")
            return 0
            ;;
        --retry-max-delay)
            mapfile -t COMPREPLY < <(compgen -W '5s 10s 30s 1m 5m' -- "$cur")
            return 0
            ;;
        --retry-max-time | --timeout)
            mapfile -t COMPREPLY < <(compgen -W '0 10s 30s 1m 5m 1h' -- "$cur")
            return 0
            ;;
        --grace)
            mapfile -t COMPREPLY < <(compgen -W '0 5s 10s 30s 1m' -- "$cur")
            return 0
            ;;
        --rotate-wait)
            mapfile -t COMPREPLY < <(compgen -W '0 1s 5s 30s 1m' -- "$cur")
            return 0
            ;;
    esac

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        return 0
    fi

    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
} &&
    complete -F _batchpipe batchpipe

# ex: filetype=sh
