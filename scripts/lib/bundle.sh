# Sourced by the install scripts: the bundle and the two libraries that
# build.mjs puts beside it (flint.js requires them by name at run time), built
# first unless --no-build was given or FLINT_BUNDLE names a bundle.
# Reads: repo, build (1 or 0), me (the script's name, for messages).
# Sets: bundle, yaml_lib, sysinfo_lib.
bundle=${FLINT_BUNDLE:-$repo/dist/flint.js}
if [[ $build == 1 && -z ${FLINT_BUNDLE:-} ]]; then
    (cd "$repo" && node build.mjs >/dev/null)
fi
yaml_lib=$(dirname "$bundle")/flint-yaml.js       # loaded only when a config is Butane YAML
sysinfo_lib=$(dirname "$bundle")/flint-sysinfo.js # loaded only by the machine dump after a failure at debug level
for file in "$bundle" "$yaml_lib" "$sysinfo_lib"; do
    [[ -s $file ]] || { echo "$me: $file missing; run npm run build" >&2; exit 1; }
done
