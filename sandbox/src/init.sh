# The init of one instance: PID 1 of its PID namespace, run by `unshare` in new user, mount,
# network, PID and UTS namespaces, as the instance's root (uid 0 inside, an unprivileged uid
# outside). It builds the instance's root filesystem, pivots into it, brings up `lo`, prints
# "ready" and then only holds the namespaces and reaps orphans until it is killed.
#
# Input. Host paths the instance's root may not be allowed to reach (the host's /root is
# 0700 and owned by a uid unmapped here) come as file descriptors opened before this script
# became root inside (see `wait_for_maps` in instance.rs), used through /proc/self/fd with
# `mount -c` (no canonicalization, which would turn them back into paths):
#   fd 3        the per-instance directory (root/, home/, tmp/, etc/, rootfs/)
#   WANA_BINDS  lines "<fd> <path>": host paths bound read-only at the same path inside
# and WANA_HOSTNAME, WANA_MASK (the directory holding every instance's directory, hidden
# inside), WANA_AWS (the `aws` executable to link as /usr/local/bin/aws, may be empty),
# WANA_BASH (the path of bash).
set -eu
D=/proc/self/fd/3
R=$D/rootfs

# Nothing done here may reach the host's mount namespace.
mount -c --make-rprivate /

# The new root: an empty tmpfs holding the host's top-level entries, bound read-only, except
# those the instance has its own of.
mount -c -t tmpfs -o mode=0755 wana-root "$R"
for entry in /* /.[!.]*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry#/}
    case $name in
        root|home|tmp|run|proc|sys|dev|mnt|media|lost+found) mkdir "$R/$name"; continue ;;
    esac
    if [ -L "$entry" ]; then
        ln -s "$(readlink "$entry")" "$R/$name"
    elif [ -d "$entry" ]; then
        mkdir "$R/$name"
        mount -c --rbind -o ro "$entry" "$R/$name"
    else
        touch "$R/$name"
        mount -c --bind -o ro "$entry" "$R/$name"
    fi
done

# The instance's own, writable, kept in its directory on the host.
mount -c --bind "$D/root" "$R/root"
mount -c --bind "$D/home" "$R/home"
mount -c --bind "$D/tmp" "$R/tmp"
for f in hostname passwd group; do
    mount -c --bind "$D/etc/$f" "$R/etc/$f"
done

# Kernel and device filesystems of the instance's own namespaces.
mount -c -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -c -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys" 2>/dev/null || true
mount -c -t tmpfs -o mode=0755,nosuid wana-dev "$R/dev"
for node in null zero full random urandom tty; do
    touch "$R/dev/$node"
    mount -c --bind "/dev/$node" "$R/dev/$node"
done
mkdir "$R/dev/pts" "$R/dev/shm"
mount -c -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
mount -c -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -c -t tmpfs -o mode=0755,nosuid,nodev wana-run "$R/run"

# Host paths the instance needs (the AWS CLI's Python), read-only at the same path, even
# under the instance's own /root.
if [ -n "$WANA_BINDS" ]; then
    printf '%s\n' "$WANA_BINDS" | while read -r fd path; do
        [ -n "$path" ] || continue
        source=/proc/self/fd/$fd
        if [ -d "$source" ]; then
            mkdir -p "$R$path"
            mount -c --rbind -o ro "$source" "$R$path"
        else
            mkdir -p "$(dirname "$R$path")"
            [ -e "$R$path" ] || touch "$R$path"
            mount -c --bind -o ro "$source" "$R$path"
        fi
    done
fi

# `aws` on the PATH of every user, as on an AMI with the CLI installed.
mount -c -t tmpfs -o mode=0755 wana-local-bin "$R/usr/local/bin"
if [ -n "$WANA_AWS" ]; then
    ln -s "$WANA_AWS" "$R/usr/local/bin/aws"
fi
mount -c -o remount,ro,bind "$R/usr/local/bin"

# Every instance's directory (this one's included) is out of sight.
if [ -n "$WANA_MASK" ] && [ -d "$R$WANA_MASK" ]; then
    mount -c -t tmpfs -o ro,size=4k,mode=0755 wana-mask "$R$WANA_MASK"
fi

# Into the new root; the host's is let go.
mkdir "$R/.wana-old-root"
cd "$R"
pivot_root . .wana-old-root
cd /
umount -l /.wana-old-root
rmdir /.wana-old-root
mount -o remount,ro,bind /

hostname "$WANA_HOSTNAME"
ip link set lo up
ip addr add 169.254.169.254/32 dev lo

echo ready
exec 1>/dev/null 2>/dev/null </dev/null
# Hold the namespaces; bash reaps every orphan it adopts.
exec "$WANA_BASH" -c 'trap "" TERM INT HUP; while :; do sleep 86400 & wait; done'
