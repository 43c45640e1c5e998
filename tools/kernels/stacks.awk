# stacks.awk - the final report of memtrace -f json, flattened for sh
# checks (busybox awk; no JSON tool in the guest). Input: JSON Lines.
# Output, for the last report with "final":true:
#   report unwind=dwarf pid=N KEY=VALUE...  (totals' numbers, drops=none or
#         drops=REASON:N,..., the kernel's paths)
#   stack KIND OUT_BYTES OUT_ALLOCS ALLOC_CALLS ALLOC_BYTES FREE_CALLS
#         FREE_BYTES UNWIND_ERROR TRUNCATED FRAMES   (one line per stack)
# FRAMES: function names, innermost first, joined by ';' (inlined frames
# too, like the e2e tests' frames_of); an unknown name is ?MODULE.
function num(s, key,    m) {
	if (match(s, "\"" key "\":-?[0-9]+")) {
		m = substr(s, RSTART, RLENGTH)
		sub(/^[^:]*:/, "", m)
		return m
	}
	return "-"
}
function flag(s, key) {
	return index(s, "\"" key "\":true") ? 1 : 0
}
function str(s, key,    m) {
	if (match(s, "\"" key "\":\"[^\"]*\"")) {
		m = substr(s, RSTART, RLENGTH)
		sub(/^[^:]*:"/, "", m)
		sub(/"$/, "", m)
		return m
	}
	return "-"
}
/"final":true/ { last = $0 }
END {
	if (last == "") {
		print "noreport"
		exit 1
	}
	p = index(last, "\"stacks\":[{")
	head = p ? substr(last, 1, p - 1) : last
	body = p ? substr(last, p) : ""
	line = "report unwind=" str(head, "unwind") " pid=" num(head, "pid")
	n = split("outstanding_bytes outstanding_allocs alloc_calls free_calls dropped_events " \
		  "unmatched_frees unwind_failures truncated_stacks stacks fp_fallback_frames " \
		  "stack_walks", keys, " ")
	for (i = 1; i <= n; i++)
		line = line " " keys[i] "=" num(head, keys[i])
	# what was dropped, by reason: drops=none or drops=NAME:N,NAME:N
	d = ""
	if (match(head, "\"drops\":\\{[^}]*\\}")) {
		nd = split(substr(head, RSTART + 9, RLENGTH - 10), dp, ",")
		for (i = 1; i <= nd; i++) {
			split(dp[i], kv, ":")
			gsub(/"/, "", kv[1])
			if (kv[2] + 0 != 0)
				d = d (d == "" ? "" : ",") kv[1] ":" kv[2]
		}
	}
	line = line " drops=" (d == "" ? "none" : d)
	# the report header's "kernel_paths":{"release":...,"uprobes":...}
	if (match(head, "\"kernel_paths\":\\{[^}]*\\}")) {
		f = substr(head, RSTART + 16, RLENGTH - 17)
		gsub(/,"/, " \"", f)	# between pairs: a value keeps its commas
		gsub(/"/, "", f)
		gsub(/:/, "=", f)
		line = line " " f
	}
	print line
	ns = split(body, st, "\\{\"kind\":\"")
	for (i = 2; i <= ns; i++) {
		s = st[i]
		kind = substr(s, 1, index(s, "\"") - 1)
		fp = index(s, "\"frames\":[")
		pre = fp ? substr(s, 1, fp - 1) : s
		frames = ""
		nf = fp ? split(substr(s, fp), fr, "\\{\"ip\":") : 0
		for (j = 2; j <= nf; j++) {
			fn = str(fr[j], "function")
			if (fn == "-") {
				mod = str(fr[j], "module")
				sub(/.*\//, "", mod)
				fn = "?" mod
			}
			frames = frames (frames == "" ? "" : ";") fn
		}
		print "stack", kind, num(pre, "outstanding_bytes"), num(pre, "outstanding_allocs"),
		      num(pre, "alloc_calls"), num(pre, "alloc_bytes"), num(pre, "free_calls"),
		      num(pre, "free_bytes"), flag(pre, "unwind_error"), flag(pre, "truncated"),
		      (frames == "" ? "-" : frames)
	}
}
