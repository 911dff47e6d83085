"""The daemon: the loop and its triggers (files, interval, git), sd_notify and notifications."""
