/* Loads, but exports no descriptor. */
int vxc_not_a_descriptor(void);
int vxc_not_a_descriptor(void)
{
	return 42;
}
