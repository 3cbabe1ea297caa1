/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COLOCTL_H
#define COLOCTL_H

/*
 * Each subsystem of coloctl lives in its own file and exposes one entry
 * point taking the arguments after its name ("coloctl proxy add ..." calls
 * proxy_main(argc, argv) with argv[0] == "proxy"). Return an exit code.
 */
int proxy_main(int argc, char **argv);
int ram_main(int argc, char **argv);
int vm_main(int argc, char **argv);

#endif
