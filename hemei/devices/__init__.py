"""Devices: call boxes, cameras and sensors; their messages, alarms and the cases alarms open."""
