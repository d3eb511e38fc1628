# made by shmbox-bench: 1 -> 1 throughput against message size
# run it again with: gnuplot bench/results.gp
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1000,650 noenhanced font ',10'
} else {
  set terminal png size 1000,650 noenhanced
}
set output 'bench/results.png'
set title "one-way throughput, 1 -> 1 process, median of 5 (AMD EPYC, nproc 2, Linux 6.18.44-fc-v782 x86_64)"
set logscale x 2
set logscale y 10
set xrange [40:100000]
set xtics ('64 B' 64, '4 KiB' 4096, '64 KiB' 65536)
set xlabel 'message size'
set ylabel 'messages/s (log scale)'
set format y '%.0s%c'
set grid
set key top right box opaque
$t0 << EOD
64 2.51638e+06
4096 4.12262e+06
65536 337358
EOD
$t1 << EOD
64 660559
4096 457103
65536 91660.4
EOD
$t2 << EOD
64 479499
4096 452809
65536 73125
EOD
$t3 << EOD
64 182261
4096 329518
65536 143319
EOD
$t4 << EOD
64 510271
4096 398706
EOD
$t5 << EOD
64 650709
4096 464175
EOD
$target << EOD
65536 160280
EOD
plot $t0 using 1:2 with linespoints lw 2 pt 7 title 'shmbox', \
     $t1 using 1:2 with linespoints lw 2 pt 7 title 'pipe', \
     $t2 using 1:2 with linespoints lw 2 pt 7 title 'unix-seqpacket', \
     $t3 using 1:2 with linespoints lw 2 pt 7 title 'unix-stream', \
     $t4 using 1:2 with linespoints lw 2 pt 7 title 'posix-mq', \
     $t5 using 1:2 with linespoints lw 2 pt 7 title 'sysv-msgq', \
     $target using 1:2 with points pt 2 ps 2 lc rgb 'black' title 'target: half the 64 KiB ring copy'
