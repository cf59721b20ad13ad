/* plot.h — `pmsim plot`: sweep results and timelines drawn by gnuplot. */
#ifndef PMSIM_TOOLS_PLOT_H
#define PMSIM_TOOLS_PLOT_H

/** The plot command; ARGV as main's (argv[0] "plot"). */
int pm_plot_main(int argc, char **argv);

#endif
