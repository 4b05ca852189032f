/* cli: the operator's subcommands besides serve and migrate. Each returns the process exit
 * status (0 ok, 1 failure, 2 usage). */
#ifndef HUYING_CLI_H
#define HUYING_CLI_H

int cli_district(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_routes(void);

#endif
