#include "token_select.cu"
