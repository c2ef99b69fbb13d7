# bash completion for batchpipe(1)                          -*- shell-script -*-
# Installed as share/bash-completion/completions/batchpipe; keep in step with
# src/cli.cc and man/batchpipe.1.

_batchpipe()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

    local opts='--size --interval --max-bytes --on-invalid --stats -q --quiet -h --help -V --version'

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
