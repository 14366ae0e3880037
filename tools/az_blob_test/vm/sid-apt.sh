# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that take something from Debian sid: a private apt
# configuration (lists and cache under $1/apt) aimed at sid, on the mirror
# this machine already uses, leaving the machine's own apt state alone.
# Sets the array sid_opts for apt-get and apt-cache.

sid_apt_setup() {
	local apt_dir=$1/apt uri

	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	if [ -z "$uri" ]; then
		echo "sid-apt: no Debian mirror configured" >&2
		return 1
	fi
	{
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' "$uri"
		printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' "$uri"
	} >"$apt_dir/sources.list"
	sid_opts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
		  -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
		  -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0
		  -o APT::Sandbox::User=root)
	# Refresh once a day.
	if [ -z "$(find "$apt_dir/lists" -name '*Sources*' -mmin -1440 2>/dev/null)" ]; then
		apt-get "${sid_opts[@]}" -q update >&2 || return 1
	fi
}
