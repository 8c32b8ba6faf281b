#!/bin/bash
# A Dockerfile checker for what hadolint (not packaged in Debian 12) would
# catch and what broke the README's snippet, sourced by test_dockerfile.sh:
#   - every instruction is one Docker knows, and the first is FROM (or ARG);
#   - no '#' after an instruction: Docker takes '#' as a comment only at the
#     start of a line, so "COPY a b  # note" copies "#" and "note" too;
#   - no COPY/ADD of a path the context's .dockerignore excludes;
#   - every COPY --from names a stage defined before it;
#   - a `setuser USER` in CMD/ENTRYPOINT names a user of the base image or
#     one the stage creates with useradd/adduser.
# dockerfile_lint FILE CONTEXT prints "FILE:LINE: problem" lines and fails
# when there is one. Not a Dockerfile parser: no heredocs, no escape
# directive, and .dockerignore without '!' exceptions (reported).

DOCKERFILE_INSTRUCTIONS=" FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL "

# Users of Debian 12's base-passwd, which every debian:12 image has.
DOCKERFILE_BASE_USERS=" root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc _apt nobody "

# dockerignore_excludes CONTEXT PATH: whether CONTEXT/.dockerignore keeps
# PATH (relative to CONTEXT) out of the build context. A pattern excludes a
# path when it matches the path or one of its parent directories; "**/"
# also matches at the top. Exit 2 for a pattern this checker cannot judge.
dockerignore_excludes() {
    local ctx=$1 path=$2 pat prefix rest
    path=${path#./}
    path=${path#/}
    path=${path%/}
    [ -f "$ctx/.dockerignore" ] || return 1
    [ -n "$path" ] && [ "$path" != . ] || return 1
    while IFS= read -r pat || [ -n "$pat" ]; do
        pat=${pat%%[[:space:]]}
        case "$pat" in
        '' | '#'*) continue ;;
        '!'*) return 2 ;;
        esac
        pat=${pat#/}
        pat=${pat%/}
        prefix=""
        rest=$path
        while [ -n "$rest" ]; do
            prefix=${prefix:+$prefix/}${rest%%/*}
            case "$rest" in */*) rest=${rest#*/} ;; *) rest="" ;; esac
            # Unquoted on purpose: the pattern is a glob.
            # shellcheck disable=SC2053
            if [[ $prefix == $pat ]] || [[ $pat == '**/'* && $prefix == ${pat#'**/'} ]]; then
                return 0
            fi
        done
    done <"$ctx/.dockerignore"
    return 1
}

# _dockerfile_check NAME LINE LOGICAL: one instruction (continuations joined).
_dockerfile_check() {
    local name=$1 lineno=$2 text=$3 instr args w src from user n i j
    local -a words
    read -r instr args <<<"$text"
    instr=${instr^^}
    if [[ $DOCKERFILE_INSTRUCTIONS != *" $instr "* ]]; then
        _dockerfile_problem "$name" "$lineno" "unknown instruction '$instr'"
        return
    fi
    if [ "$_df_stages" -eq 0 ] && [ "$instr" != FROM ] && [ "$instr" != ARG ]; then
        _dockerfile_problem "$name" "$lineno" "$instr before the first FROM"
    fi
    if [[ " $args" =~ [[:space:]]# ]]; then
        _dockerfile_problem "$name" "$lineno" "'#' after $instr is not a comment (comments need a line of their own)"
    fi
    # JSON or shell form alike: the words, without brackets, quotes, commas.
    read -r -a words <<<"$(tr -d '[]",' <<<"$args")"
    case "$instr" in
    FROM)
        _df_stages=$((_df_stages + 1))
        _df_users=$DOCKERFILE_BASE_USERS
        n=${#words[@]}
        for ((i = 0; i + 1 < n; i++)); do
            if [ "${words[i],,}" = as ]; then
                _df_stage_names+=" ${words[i + 1]} "
            fi
        done
        ;;
    RUN)
        # The last word of each useradd/adduser command is the new user.
        while read -r w; do
            [ -n "$w" ] && _df_users+=" ${w##* } "
        done < <(grep -oE '\b(useradd|adduser)( +[^;&| ]+)+' <<<"$args")
        ;;
    COPY | ADD)
        from=""
        while [ "${#words[@]}" -gt 0 ] && [[ ${words[0]} == --* ]]; do
            case "${words[0]}" in --from=*) from=${words[0]#--from=} ;; esac
            words=("${words[@]:1}")
        done
        if [ -n "$from" ]; then
            if [[ $from != *[:/]* ]] && [[ $_df_stage_names != *" $from "* ]] &&
                ! { [[ $from =~ ^[0-9]+$ ]] && [ "$from" -lt $((_df_stages - 1)) ]; }; then
                _dockerfile_problem "$name" "$lineno" "COPY --from=$from: no such stage before it"
            fi
        elif [ "${#words[@]}" -lt 2 ]; then
            _dockerfile_problem "$name" "$lineno" "$instr needs a source and a destination"
        else
            for src in "${words[@]:0:${#words[@]}-1}"; do
                [[ $src == *://* ]] && continue
                dockerignore_excludes "$_df_context" "$src"
                case $? in
                0) _dockerfile_problem "$name" "$lineno" "$instr $src: .dockerignore keeps it out of the context" ;;
                2) _dockerfile_problem "$name" "$lineno" ".dockerignore has '!' patterns, which this check cannot judge" ;;
                esac
            done
        fi
        ;;
    CMD | ENTRYPOINT)
        n=${#words[@]}
        for ((i = 0; i < n; i++)); do
            [[ ${words[i]} == setuser || ${words[i]} == */setuser ]] || continue
            for ((j = i + 1; j < n; j++)); do
                [[ ${words[j]} == -* ]] || break
            done
            user=${words[j]:-}
            user=${user%%:*}
            if [ -n "$user" ] && [[ ! $user =~ ^[0-9]+$ ]] && [[ $_df_users != *" $user "* ]]; then
                _dockerfile_problem "$name" "$lineno" "setuser $user: no such user in the image (create it with useradd)"
            fi
        done
        ;;
    esac
}

_dockerfile_problem() {
    echo "$1:$2: $3"
    _df_problems=$((_df_problems + 1))
}

# dockerfile_lint FILE CONTEXT [NAME]: NAME is how FILE is called in the
# messages (e.g. "README.md snippet 1").
dockerfile_lint() {
    local file=$1 name=${3:-$1} line logical="" lineno=0 start=0
    _df_context=$2
    _df_stages=0
    _df_stage_names=" "
    _df_users=$DOCKERFILE_BASE_USERS
    _df_problems=0
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        # Comment lines, also inside a continued instruction, and blanks.
        if [[ $line =~ ^[[:space:]]*(#|$) ]]; then
            continue
        fi
        if [ -z "$logical" ]; then
            start=$lineno
        fi
        if [[ $line =~ \\[[:space:]]*$ ]]; then
            line=${line%"${line##*[![:space:]]}"}
            logical+="${line%\\} "
            continue
        fi
        logical+=$line
        _dockerfile_check "$name" "$start" "$logical"
        logical=""
    done <"$file"
    if [ -n "$logical" ]; then
        _dockerfile_problem "$name" "$start" "the file ends in a continued line"
    fi
    if [ "$_df_stages" -eq 0 ]; then
        _dockerfile_problem "$name" 1 "no FROM"
    fi
    [ "$_df_problems" -eq 0 ]
}
