# bash completion for memtrace(8); installed as
# share/bash-completion/completions/memtrace (`make install`, the package).
#  - options: read from `memtrace --help` of the command being completed, so a
#    new option completes without editing this file;
#  - -p/--pid: pids of running processes, listed as "PID (comm)"; a word that
#    is not a number completes to the pids whose command name starts with it;
#  - the values of --format, --unwind and --fail-on, file names after the
#    options that take a FILE, directories after --debug-dir, process names
#    after --comm/--exclude-comm, cgroup paths after --cgroup;
#  - after --: a command, then its arguments as files.
# Needs bash only (no bash-completion helpers), so it also works sourced.

# _memtrace_pids WORD: COMPREPLY = pids matching WORD (by pid or by comm),
# user processes only (a kernel thread or zombie has an empty command line).
_memtrace_pids()
{
	local cur=$1 d pid comm arg
	local -a found=()

	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		comm= arg=
		read -r comm 2>/dev/null < "$d/comm" || continue
		read -r -d '' arg 2>/dev/null < "$d/cmdline"
		[[ -n $arg ]] || continue
		if [[ -z $cur || $cur == [0-9]* ]]; then
			[[ $pid == "$cur"* ]] || continue
		else
			[[ $comm == "$cur"* ]] || continue
		fi
		found+=("$pid ($comm)")
	done
	if ((${#found[@]} == 1)); then
		COMPREPLY=("${found[0]%% *}")
	else
		COMPREPLY=("${found[@]}")
	fi
}

# _memtrace_options CMD: the option names CMD --help prints, one a line, each
# followed by "=" when it takes a value ("-p=", "--pid=", "--no-mmap").
_memtrace_options()
{
	"$1" --help 2>/dev/null | awk '
	match($0, /^ +-/) && RLENGTH <= 9 {
		sub(/^ +/, ""); sub(/  .*/, "")
		arg = index($0, "=") ? "=" : ""
		n = split($0, f, /, */)
		for (i = 1; i <= n; i++) {
			o = f[i]; sub(/[=[].*/, "", o)
			if (o != "-?") print o arg
		}
	}'
}

_memtrace()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[0]} i opt
	local -a opts=()

	COMPREPLY=()
	# After "--": the command to launch, then its arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			if ((i == COMP_CWORD - 1)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				compopt -o default 2>/dev/null
			fi
			return 0
		fi
	done
	# --opt=value: complete the value as if it were the next word.
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	case $prev in
	-p | --pid)
		_memtrace_pids "$cur"
		return 0
		;;
	-f | --format)
		COMPREPLY=($(compgen -W 'text json' -- "$cur"))
		return 0
		;;
	--unwind)
		COMPREPLY=($(compgen -W 'fp dwarf' -- "$cur"))
		return 0
		;;
	--fail-on)
		COMPREPLY=($(compgen -W 'low medium high critical' -- "$cur"))
		return 0
		;;
	--comm | --exclude-comm)
		# The names of running processes (a regex matching one exactly).
		local -a names=()
		mapfile -t names < <(cat /proc/[0-9]*/comm 2>/dev/null | sort -u)
		local n
		for n in "${names[@]}"; do
			[[ $n == "$cur"* && $n != *[[:space:]]* ]] && COMPREPLY+=("$n")
		done
		return 0
		;;
	--cgroup)
		# cgroup v2 paths as /proc/PID/cgroup names them: below the cgroup2
		# mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts).
		local d root
		root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts 2>/dev/null)
		[[ -n $root ]] || return 0
		[[ $cur == /* ]] || cur=/$cur
		while IFS= read -r d; do
			COMPREPLY+=("${d#"$root"}/")
		done < <(compgen -d -- "$root$cur")
		compopt -o nospace 2>/dev/null
		return 0
		;;
	--debug-dir)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0
		;;
	--output | --save-baseline | --baseline | --pprof | --collapsed | --flamegraph | --csv)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	esac
	mapfile -t opts < <(_memtrace_options "$cmd")
	# The value of another option that takes one: nothing to offer.
	for opt in "${opts[@]}"; do
		[[ $opt == "$prev=" && $prev == -* ]] && return 0
	done
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${opts[*]%=}" -- "$cur"))
	fi
	return 0
}

complete -F _memtrace memtrace
