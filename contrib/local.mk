# contrib/: systemd unit and friends, set-up scripts.
