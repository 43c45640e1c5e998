# man-tidy.awk - drop the empty paragraph macros scdoc emits, so the page is
# `mandoc -T lint` clean (mk/man.mk): a .P right after .TH/.SH/.SS/.P, or
# right before .SH/.SS/.P or the end. A .P before .RE (the space between two
# option entries) moves after the .RE, where it starts the next entry.
# Every other line passes unchanged.
function is_para(l)  { return l ~ /^\.P[ \t]*$/ }
function opens(l)    { return l ~ /^\.(TH|SH|SS)([ \t]|$)/ || is_para(l) }
function closes(l)   { return l ~ /^\.(SH|SS)([ \t]|$)/ || is_para(l) }
{
	if (pending && $0 ~ /^\.RE([ \t]|$)/) {
		print
		last = $0
		next
	}
	if (pending && !closes($0))
		print ".P"
	pending = 0
	if (is_para($0)) {
		if (!opens(last))
			pending = 1
		next
	}
	print
	last = $0
}
