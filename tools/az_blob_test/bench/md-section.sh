# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# md-section.sh: sourced by bench.sh and driver-bench.sh, which each write
# their own generated section of BENCHMARKS.md.

# replace_section FILE NAME CONTENT_FILE: put CONTENT_FILE between
# "<!-- bench:NAME:begin -->" and "<!-- bench:NAME:end -->" in FILE (the
# markers stay), or append markers and content at the end of FILE when it
# has none. FILE "-" prints the section instead.
replace_section() {
	local file=$1 name=$2 content=$3
	local begin="<!-- bench:$name:begin -->" end="<!-- bench:$name:end -->"
	local tmp

	if [ "$file" = - ]; then
		printf '%s\n' "$begin"
		cat "$content"
		printf '%s\n' "$end"
		return
	fi
	tmp=$(mktemp "$file.XXXXXX") || return 1
	if grep -qxF "$begin" "$file" && grep -qxF "$end" "$file"; then
		awk -v b="$begin" -v e="$end" -v c="$content" '
			$0 == b { print; while ((getline l < c) > 0) print l; skip = 1; next }
			$0 == e { skip = 0 }
			!skip { print }' "$file" >"$tmp"
	else
		{ cat "$file"; printf '\n%s\n' "$begin"; cat "$content"; printf '%s\n' "$end"; } >"$tmp"
	fi
	chmod --reference="$file" "$tmp" 2>/dev/null
	mv "$tmp" "$file"
}
