/* The size of every buffer that holds one error message: a line of a
 * terminal's width or so, with room for a quoted value. Its own header so
 * that pure code (src/lib), which has no log, can use it too. */
#ifndef DOCK_ERRMAX_H
#define DOCK_ERRMAX_H

#define DOCK_ERR_MAX 256

#endif
