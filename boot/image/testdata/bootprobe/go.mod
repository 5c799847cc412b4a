module bootprobe

go 1.26
